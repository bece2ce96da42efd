/*
 * What the sentence cache saves: the CPU time to render an agent's fixed
 * prompts over many calls, with the cache off (every call renders them)
 * and on (the first call does), in one run, and the memory it holds.
 *   bench_tts_cache [AGENT_JSON] [CALLS]
 * The prompts are the agent file's "say" and "ask" texts without {slots}
 * (those change from call to call and are rendered every time either way).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <banter/banter.h>

enum { MAX_PROMPTS = 64 };

static const char *prompts[MAX_PROMPTS];
static size_t n_prompts;

static void collect(const json_t *o, const char *key)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(o)) {
		json_object_foreach((json_t *)o, k, v)
			collect(v, k);
	}
	else if (json_is_array(o)) {
		json_array_foreach(o, i, v)
			collect(v, key);
	}
	else if (json_is_string(o) && key &&
		 (!strcmp(key, "say") || !strcmp(key, "ask")) &&
		 !strchr(json_string_value(o), '{') &&
		 n_prompts < MAX_PROMPTS) {
		prompts[n_prompts++] = json_string_value(o);
	}
}

static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* calls x every prompt through a fresh instance per call; CPU seconds */
static int run(const char *voice, unsigned calls, double *cpu, size_t *bytes)
{
	double t0 = cpu_s();

	for (unsigned c = 0; c < calls; c++) {
		struct bt_tts_st *st = NULL;
		int err = bt_tts_open(&st, voice, NULL);

		if (err)
			return err;
		for (size_t i = 0; i < n_prompts; i++) {
			struct bt_tts_audio *a = NULL;

			err = bt_tts_synth(st, prompts[i], &a);
			if (err) {
				mem_deref(st);
				return err;
			}
			*bytes += a->n * sizeof(int16_t);
			mem_deref(a);
		}
		mem_deref(st);
	}
	*cpu = cpu_s() - t0;
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "agents/restaurant.json";
	unsigned calls = argc > 2 ? (unsigned)atoi(argv[2]) : 20;
	struct bt_tts_cache_stats cs;
	struct bt_agent *agent = NULL;
	json_error_t jerr;
	json_t *root;
	double off = 0, on = 0;
	size_t b_off = 0, b_on = 0;
	int err;

	root = json_load_file(path, 0, &jerr);
	if (!root) {
		fprintf(stderr, "bench_tts_cache: %s: %s\n", path, jerr.text);
		return 1;
	}
	collect(root, NULL);
	err = bt_init();
	if (!err)
		err = bt_agent_load(&agent, path);
	if (err || !n_prompts || !calls) {
		fprintf(stderr, "bench_tts_cache: %s\n", err ? bt_errmsg() :
			"no fixed prompts, or no calls");
		json_decref(root);
		return 1;
	}
	printf("sentence cache: %zu fixed prompts of %s, voice %s, %u calls\n",
	       n_prompts, path, bt_agent_voice(agent), calls);

	bt_tts_cache_set(0);
	err = run(bt_agent_voice(agent), calls, &off, &b_off);
	if (!err) {
		bt_tts_cache_set(16 * 1024 * 1024);
		err = run(bt_agent_voice(agent), calls, &on, &b_on);
	}
	if (err) {
		fprintf(stderr, "bench_tts_cache: %s\n", bt_errmsg());
		goto out;
	}
	bt_tts_cache_stats(&cs);
	printf("  cache off: %8.1f ms CPU per call\n", 1e3 * off / calls);
	printf("  cache on:  %8.1f ms CPU per call (first call included)\n",
	       1e3 * on / calls);
	printf("  ratio:     %8.1fx less CPU; %llu hits, %llu misses; "
	       "%zu entries, %.1f KiB held\n",
	       on > 0 ? off / on : 0.0, (unsigned long long)cs.hits,
	       (unsigned long long)cs.misses, cs.entries,
	       (double)cs.bytes / 1024.0);
	if (b_off != b_on)
		printf("  (audio sizes differ: %zu vs %zu bytes: the engine "
		       "renders a sentence differently each time)\n",
		       b_off, b_on);
 out:
	mem_deref(agent);
	json_decref(root);
	bt_close();
	return err ? 1 : 0;
}
