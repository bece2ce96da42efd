/**
 * @file stats.c  `banter stats TRACE...`: voice-to-voice percentiles and
 *                each stage's share, over the agent replies in traces.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"

enum { MAX_SAMPLES = 4096, N_STAGES = 5 };

static const char *stage_names[N_STAGES] = {
	"endpoint wait", "stt final", "first text", "first audio", "audio out"};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
	double idx;
	size_t i;

	if (!n)
		return 0;
	idx = p * (double)(n - 1);
	i = (size_t)idx;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (idx - (double)i) * (v[i + 1] - v[i]);
}

static double get(const json_t *o, const char *k)
{
	return (double)json_integer_value(json_object_get(o, k));
}

int cmd_stats(int argc, char **argv)
{
	static double v2v[MAX_SAMPLES];
	double stage[N_STAGES] = {0}, total = 0;
	size_t n = 0;
	char line[65536];

	if (argc < 2) {
		fprintf(stderr, "usage: banter stats TRACE.jsonl...\n");
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		printf("usage: banter stats TRACE.jsonl...\n"
		       "  latency percentiles and stage shares from the traces "
		       "of banter simulate,\n  talk or call (--trace)\n");
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");
		if (!f) {
			fprintf(stderr, "banter stats: cannot open %s\n",
				argv[i]);
			return 1;
		}
		while (fgets(line, sizeof(line), f) && n < MAX_SAMPLES) {
			json_t *o = json_loads(line, 0, NULL);
			const char *kind;

			if (!o)
				continue;
			kind = json_string_value(json_object_get(o, "kind"));
			if (json_is_integer(json_object_get(o,
							    "voice_to_voice_ms"))
			    && kind && !strcmp(kind, "reply")) {
				double se = get(o, "user_speech_end_ms");
				double ep = get(o, "endpoint_ms");
				double sf = get(o, "stt_final_ms");
				double ft = get(o, "first_text_ms");
				double fa = get(o, "first_audio_ms");
				double ao = get(o, "audio_out_ms");

				v2v[n++] = ao - se;
				stage[0] += ep - se;
				stage[1] += sf - ep;
				stage[2] += ft - sf;
				stage[3] += fa - ft;
				stage[4] += ao - fa;
				total += ao - se;
			}
			json_decref(o);
		}
		fclose(f);
	}
	if (!n) {
		fprintf(stderr, "banter stats: no agent replies with latency "
			"figures in the traces\n");
		return 1;
	}
	qsort(v2v, n, sizeof(v2v[0]), cmp_d);
	printf("replies: %zu\n", n);
	printf("voice-to-voice ms: p50 %.0f  p95 %.0f  mean %.0f  max %.0f\n",
	       pct(v2v, n, 0.5), pct(v2v, n, 0.95), total / (double)n,
	       v2v[n - 1]);
	printf("stage shares (mean ms, share of voice-to-voice):\n");
	for (int s = 0; s < N_STAGES; s++)
		printf("  %-14s %7.1f ms  %5.1f %%\n", stage_names[s],
		       stage[s] / (double)n,
		       total > 0 ? 100.0 * stage[s] / total : 0);
	return 0;
}
