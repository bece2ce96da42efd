/**
 * @file vad_eval.c  Run our VAD over the generated corpus, frame by frame,
 * and write its per-frame decisions and CPU time for bench/vad/score.mjs.
 *
 *   vad_eval [--threshold P] CORPUS_DIR OUT.jsonl
 *
 * Two systems per item, each with a fresh instance (an item is a call):
 *  - "ours": the "energy" provider alone, speech where prob >= threshold;
 *  - "ours_seg": the same through the segmenter (bt_vadseg, default
 *    settings), speech where the segmenter is active after the frame, which
 *    is what the session acts on.
 * CPU time is CLOCK_PROCESS_CPUTIME_ID around the frame calls only (not
 * the WAV reading). Frames are BT_FRAME_SAMPLES long; a partial last frame
 * is left out, as the other VADs' runs do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "banter/json.h"
#include "banter/banter.h"

enum {
	PATH_MAX_LEN = 512,
	LINE_MAX_LEN = 8192,
	/* an hour of frames: no corpus item comes near it */
	MAX_FRAMES = 3600 * 1000 / BT_FRAME_MS,
};

static int64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The provider alone: frame decisions into dec[n_frames]. */
static int run_raw(const struct bt_vad *vad, const int16_t *pcm,
		   size_t n_frames, float threshold, char *dec,
		   int64_t *nsp)
{
	struct bt_vad_st *st = NULL;
	float *prob;
	int64_t t0, t1;
	size_t i;
	int err;

	prob = mem_alloc(n_frames * sizeof(*prob) + 1, NULL);
	if (!prob)
		return bt_err(ENOMEM, "out of memory");

	err = vad->alloch(&st);
	if (err)
		goto out;

	t0 = cpu_ns();
	for (i = 0; i < n_frames && !err; i++)
		err = vad->frameh(st, pcm + i * BT_FRAME_SAMPLES,
				  BT_FRAME_SAMPLES, &prob[i]);
	t1 = cpu_ns();
	if (err)
		goto out;

	for (i = 0; i < n_frames; i++)
		dec[i] = prob[i] >= threshold ? '1' : '0';
	dec[n_frames] = '\0';
	*nsp = t1 - t0;

 out:
	mem_deref(st);
	mem_deref(prob);
	return err;
}

/* Through the segmenter: active after each frame. */
static int run_seg(const struct bt_vad *vad, const int16_t *pcm,
		   size_t n_frames, float threshold, char *dec,
		   int64_t *nsp)
{
	struct bt_vadseg_prm prm;
	struct bt_vadseg *seg = NULL;
	int64_t t0, t1;
	size_t i;
	int err;

	bt_vadseg_prm_default(&prm);
	prm.threshold = threshold;
	err = bt_vadseg_alloc(&seg, vad, &prm);
	if (err)
		return err;

	t0 = cpu_ns();
	for (i = 0; i < n_frames && !err; i++) {
		enum bt_vadseg_ev ev;
		uint64_t ev_ms;

		err = bt_vadseg_frame(seg, pcm + i * BT_FRAME_SAMPLES,
				      BT_FRAME_SAMPLES,
				      (uint64_t)i * BT_FRAME_MS, &ev, &ev_ms,
				      NULL);
		/* stored inside the timed loop, but a byte store is noise
		 * next to a frame of VAD */
		dec[i] = bt_vadseg_active(seg) ? '1' : '0';
	}
	t1 = cpu_ns();
	dec[n_frames] = '\0';
	*nsp = t1 - t0;

	mem_deref(seg);
	return err;
}

static int eval_item(const struct bt_vad *vad, const char *dir,
		     const char *file, float threshold, FILE *out)
{
	char path[PATH_MAX_LEN];
	int16_t *pcm = NULL;
	uint32_t rate = 0;
	size_t n = 0, n_frames;
	char *raw = NULL, *seg = NULL;
	int64_t ns_raw = 0, ns_seg = 0;
	json_t *obj = NULL;
	char *line = NULL;
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    (int)sizeof(path))
		return bt_err(ENAMETOOLONG, "path too long: %s/%s",
			      dir, file);

	err = bt_wav_read(path, &pcm, &n, &rate);
	if (err)
		return err;
	if (rate != BT_RATE_HZ) {
		err = bt_err(EINVAL, "%s is %u Hz; the corpus is "
			     "%d Hz (regenerate it with gen_corpus)", path,
			     rate, BT_RATE_HZ);
		goto out;
	}

	n_frames = n / BT_FRAME_SAMPLES;
	if (n_frames > MAX_FRAMES) {
		err = bt_err(EFBIG, "%s is longer than an hour",
			     path);
		goto out;
	}

	raw = mem_alloc(n_frames + 1, NULL);
	seg = mem_alloc(n_frames + 1, NULL);
	if (!raw || !seg) {
		err = bt_err(ENOMEM, "out of memory");
		goto out;
	}

	err = run_raw(vad, pcm, n_frames, threshold, raw, &ns_raw);
	if (!err)
		err = run_seg(vad, pcm, n_frames, threshold, seg, &ns_seg);
	if (err)
		goto out;

	obj = json_pack("{s:s, s:i, s:{s:s, s:s}, s:{s:I, s:I}}",
			"file", file,
			"frames", (int)n_frames,
			"dec", "ours", raw, "ours_seg", seg,
			"cpu_ns", "ours", (json_int_t)ns_raw,
			"ours_seg", (json_int_t)ns_seg);
	line = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) :
		NULL;
	if (!line || fprintf(out, "%s\n", line) < 0)
		err = bt_err(EIO, "cannot write the results");

 out:
	free(line);
	json_decref(obj);
	mem_deref(seg);
	mem_deref(raw);
	mem_deref(pcm);
	return err;
}

static void usage(void)
{
	fprintf(stderr, "usage: vad_eval [--threshold P] CORPUS_DIR "
		"OUT.jsonl\n");
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *outpath = NULL;
	float threshold = 0.5f;
	char path[PATH_MAX_LEN], line[LINE_MAX_LEN];
	const struct bt_vad *vad;
	FILE *in = NULL, *out = NULL;
	size_t items = 0;
	int i, err = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threshold") && i + 1 < argc)
			threshold = strtof(argv[++i], NULL);
		else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else if (argv[i][0] != '-' && !outpath)
			outpath = argv[i];
		else {
			usage();
			return 2;
		}
	}
	if (!dir || !outpath || threshold <= 0.0f || threshold > 1.0f) {
		usage();
		return 2;
	}

	err = bt_vad_energy_init();
	if (err)
		goto out;
	vad = bt_vad_find("energy");
	if (!vad) {
		err = bt_err(ENOENT, "no \"energy\" VAD registered");
		goto out;
	}

	snprintf(path, sizeof(path), "%s/corpus.jsonl", dir);
	in = fopen(path, "r");
	if (!in) {
		err = bt_err(errno, "cannot read %s: %s; generate "
			     "the corpus with gen_corpus %s", path,
			     strerror(errno), dir);
		goto out;
	}
	out = fopen(outpath, "w");
	if (!out) {
		err = bt_err(errno, "cannot write %s: %s", outpath,
			     strerror(errno));
		goto out;
	}

	while (fgets(line, sizeof(line), in)) {
		const char *file;
		json_error_t jerr;
		json_t *item;

		if (!strchr(line, '\n') && !feof(in)) {
			err = bt_err(EMSGSIZE, "%s: line %zu is "
				     "longer than %d bytes", path, items + 1,
				     LINE_MAX_LEN);
			goto out;
		}
		item = json_loads(line, 0, &jerr);
		file = json_string_value(json_object_get(item, "file"));
		if (!file) {
			json_decref(item);
			err = bt_err(EINVAL, "%s: line %zu has no "
				     "\"file\"", path, items + 1);
			goto out;
		}
		err = eval_item(vad, dir, file, threshold, out);
		json_decref(item);
		if (err)
			goto out;
		++items;
	}

	if (fclose(out)) {
		out = NULL;
		err = bt_err(EIO, "cannot write %s", outpath);
		goto out;
	}
	out = NULL;
	printf("vad_eval: %zu items -> %s\n", items, outpath);

 out:
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	if (err)
		fprintf(stderr, "vad_eval: %s\n", bt_errmsg());

	return err ? 1 : 0;
}
