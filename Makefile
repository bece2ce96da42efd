# make run   installs what is missing, builds, and runs a call with the default agent
# make test  installs, builds (plain and ASan+UBSan), runs every test and
#            each fuzz harness briefly
# make fuzz  runs each fuzz harness for FUZZ_SECONDS (tests/fuzz/README.md)
JOBS ?= 2
# ctest's parallel level for the tests other than SIP: they wait on real
# time more than they compute (each alone, plain build: 540 s of CPU in
# 1138 s), so four share two cores (plain 322 s, ASan+UBSan 405 s; at
# three, 406 and 496 s); the SIP tests (label sip) run in a phase of their
# own, two at a time, where the ones that decode speech hold one lock
# (CMakeLists.txt: RESOURCE_LOCK sip_decoding)
TEST_JOBS ?= 4
SIP_JOBS ?= 2
# quiet: no "Entering directory" lines from make or the build it runs
MAKEFLAGS += --no-print-directory
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_CC ?= $(shell command -v clang-14 || command -v clang || echo clang)
FUZZ_SECONDS ?= 300
# make test's short run: whichever comes first, per harness
FUZZ_TEST_SECONDS ?= 20
FUZZ_TEST_RUNS ?= 1000000

.PHONY: all deps build asan fuzz-build fuzz run simulate test bench bench-vad \
	bench-turns bench-serve bench-slots bench-sip bench-sip-scripted \
	bench-sip-v2v bench-sip-llm clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

asan: deps
	@# -O1, as AddressSanitizer's documentation advises: the suite's CPU
	@# 935 -> 785 s against -O0, with the same checks
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DBT_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

# libFuzzer needs clang; its own folder, since every object is instrumented
fuzz-build: deps
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=$(FUZZ_CC) \
	  -DCMAKE_BUILD_TYPE=Debug -DBT_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) --target fuzz_all -j$(JOBS)

# the corpora grow in $(FUZZ_BUILD)/corpus from one run to the next
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_CORPUS=$(FUZZ_BUILD)/corpus \
	  tests/fuzz/run.sh $(FUZZ_BUILD)

run: build
	@scripts/run.sh ./$(BUILD)/banter

simulate: build
	./$(BUILD)/banter simulate --agent agents/restaurant.json \
	  --caller callers/booking.json --out call.wav --trace trace.jsonl --db banter.db

test: build asan fuzz-build
	cd $(BUILD) && ctest --output-on-failure -j$(TEST_JOBS) -LE sip
	cd $(BUILD) && ctest --output-on-failure -j$(SIP_JOBS) -L sip
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(TEST_JOBS) -LE sip
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(SIP_JOBS) -L sip
	FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) FUZZ_RUNS=$(FUZZ_TEST_RUNS) FUZZ_JOBS=$(JOBS) \
	  tests/fuzz/run.sh $(FUZZ_BUILD)

bench: build
	bench/latency.sh ./$(BUILD)/banter
	bench/serve.sh ./$(BUILD)/banter 3
	CLOUD=1 bench/serve.sh ./$(BUILD)/banter 3
	./$(BUILD)/bench_tts_cache agents/restaurant.json 20

# calls per server (embedded models, against one simulate process per call)
# and the engine's own cost without speech models (quick defaults)
bench-serve: build
	bench/serve_load.sh ./$(BUILD)/banter
	./$(BUILD)/bench_engine

bench-vad: build
	bench/vad.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

bench-turns: build
	bench/turns.sh

bench-slots: build
	bench/slots.sh

# phone calls per server: sipp places N concurrent G.722 calls (the
# embedded models); bench-sip-scripted: the scripted recogniser and the
# silent voice, the engine's own ceiling for telephony (docs/sip.md)
bench-sip: build
	bench/sip_load.sh ./$(BUILD)/banter

bench-sip-scripted: build
	bench/sip_load.sh ./$(BUILD)/banter --scripted

# the same calls with an LLM brain (the local streaming mock) next to the
# flow: the engine's added latency per reply (docs/llm.md)
bench-sip-llm: build
	bench/sip_llm_load.sh ./$(BUILD)/banter

# voice-to-voice on the wire: a baresip caller, then the same caller over
# the WebSocket, against one server (docs/sip.md)
bench-sip-v2v: build
	bench/sip_v2v.sh ./$(BUILD)/banter
