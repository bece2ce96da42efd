# make run   installs what is missing, builds, and runs a call with the default agent
# make test  installs, builds (plain and ASan+UBSan), runs every test
JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all deps build asan run simulate test bench bench-vad bench-turns clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DBT_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

run: build
	@scripts/run.sh ./$(BUILD)/banter

simulate: build
	./$(BUILD)/banter simulate --agent agents/restaurant.json \
	  --caller callers/booking.json --out call.wav --trace trace.jsonl --db banter.db

test: build asan
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(JOBS)

bench: build
	bench/latency.sh ./$(BUILD)/banter
	bench/serve.sh ./$(BUILD)/banter 3
	./$(BUILD)/bench_tts_cache agents/restaurant.json 20

bench-vad: build
	bench/vad.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

bench-turns: build
	bench/turns.sh
