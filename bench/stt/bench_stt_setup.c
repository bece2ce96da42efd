/*
 * What a pocketsphinx STT instance costs to set up: memory and CPU for the
 * first instance of the process and for each one after it, with the
 * agent's grammars, with the models shared between instances and without
 * (one child process each, BT_PS_SHARE=1 and =0), and the CPU one instance
 * spends per second of audio: in a turn of the caller's, and in speech
 * over the agent's voice (where the overlap classifier also searches).
 *   bench_stt_setup [INSTANCES] [AGENT_JSON]
 * INSTANCES: how many instances to open (default 20), one after the
 * other on one thread, as one event loop opens its calls.
 * With BT_PS_SHARE set in the environment it measures that setting only.
 * CPU figures are the lower of ROUNDS runs of each setting, taken in
 * turn: on a shared machine other work only ever adds to them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <banter/banter.h>

enum { DECODE_RUNS = 5, PHRASES_MAX = 64, ROUNDS = 2 };

/* what bt_session_alloc (src/core/session_alloc.c) adds to every grammar */
static const char *const backchannels[] = {"mhm", "hmm", "uh-huh", "yeah",
					   "okay", "right", "i see"};

static const char wav_path[] = "tests/data/stt_hours_rms.wav";

struct result {
	double rss_first, anon_first;   /* MB */
	double rss_more, anon_more;     /* MB per additional instance */
	double pss_more;                /* the same, file pages counted once
					   however many decoders map them */
	double cpu_first, cpu_more;     /* s; cpu_more: mean */
	double cpu_more_max;
	double rtf;                     /* CPU s per audio s: a turn */
	double rtf_ov;                  /* ... speech over the agent, read
					   by the overlap classifier too */
	char text[sizeof(((struct bt_transcript *)0)->text)];
};

/* kB figure `key` of a /proc/self file, in MB */
static double proc_mb(const char *file, const char *key)
{
	char line[256];
	size_t n = strlen(key);
	double v = 0;
	FILE *f = fopen(file, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = atof(line + n + 1) / 1024.0;
			break;
		}
	}
	fclose(f);
	return v;
}

static double status_mb(const char *key)
{
	return proc_mb("/proc/self/status", key);
}

/* proportional: a page mapped n times counts 1/n at each mapping (the
 * acoustic model's files, mapped by every decoder, count once) */
static double pss_mb(void)
{
	return proc_mb("/proc/self/smaps_rollup", "Pss");
}

static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The agent's grammars as bt_session_alloc builds them. */
struct grammars {
	struct bt_stt_grammar *brain;  /* the brain's block: names, phrases */
	struct bt_stt_grammar *v;      /* with the backchannels added */
	const char **phr;
	size_t n;
};

static void grammars_free(struct grammars *g)
{
	g->v = mem_deref(g->v);
	g->phr = mem_deref(g->phr);
	g->brain = mem_deref(g->brain);
}

static int grammars_make(struct grammars *g, const json_t *aj)
{
	const json_t *b = json_object_get(aj, "brain");
	const char *name = json_string_value(json_object_get(b, "provider"));
	const struct bt_brain *brain = bt_brain_find(name ? name : "flow");
	int err;

	if (!brain || !brain->grammarsh)
		return bt_err(ENOENT, "the agent's brain has no grammars");
	err = brain->grammarsh(aj, &g->brain, &g->n);
	if (err)
		return err;
	g->v = mem_zalloc((g->n ? g->n : 1) * sizeof(*g->v), NULL);
	g->phr = mem_zalloc((g->n ? g->n : 1) * PHRASES_MAX * sizeof(*g->phr),
			    NULL);
	if (!g->v || !g->phr)
		return ENOMEM;
	for (size_t i = 0; i < g->n; i++) {
		const struct bt_stt_grammar *src = &g->brain[i];
		const char **p = g->phr + i * PHRASES_MAX;
		size_t k = 0;

		g->v[i] = *src;
		for (size_t j = 0; j < src->n_phrases && k < PHRASES_MAX; j++)
			p[k++] = src->phrases[j];
		for (size_t j = 0; j < sizeof(backchannels) /
				       sizeof(backchannels[0]) &&
				   k < PHRASES_MAX; j++)
			p[k++] = backchannels[j];
		g->v[i].phrases = p;
		g->v[i].n_phrases = k;
	}
	return 0;
}

/* One instance decodes the WAV with the open language model, in 20 ms
 * frames with a partial after each, as a session feeds it. */
static int decode(const struct bt_stt *stt, struct bt_stt_st *st,
		  bool overlap, struct result *r)
{
	struct bt_transcript tr;
	char part[512];
	int16_t *pcm = NULL;
	size_t n = 0;
	uint32_t rate = 0;
	double t0, cpu = 0;
	int err;

	err = bt_wav_read(wav_path, &pcm, &n, &rate);
	if (err)
		return err;
	if (rate != BT_RATE_HZ) {
		mem_deref(pcm);
		return bt_err(EINVAL, "%s is not %u Hz", wav_path,
			      (unsigned)BT_RATE_HZ);
	}
	for (int run = 0; run < DECODE_RUNS && !err; run++) {
		t0 = cpu_s();
		err = stt->starth(st, NULL, overlap);
		for (size_t i = 0; !err && i + BT_FRAME_SAMPLES <= n;
		     i += BT_FRAME_SAMPLES) {
			err = stt->feedh(st, pcm + i, BT_FRAME_SAMPLES);
			stt->hyph(st, part, sizeof(part));
		}
		if (!err)
			err = stt->finishh(st, &tr);
		cpu += cpu_s() - t0;
	}
	if (!err) {
		double rtf = cpu / (DECODE_RUNS * (double)n / BT_RATE_HZ);

		if (overlap)
			r->rtf_ov = rtf;
		else
			r->rtf = rtf;
		str_ncpy(r->text, tr.text, sizeof(r->text));
	}
	mem_deref(pcm);
	return err;
}

static int measure(unsigned k, const char *agent_path, struct result *r)
{
	struct bt_agent *agent = NULL;
	struct grammars g = {0};
	struct bt_stt_st **stv = NULL;
	const struct bt_stt *stt;
	struct bt_stt_prm prm;
	double rss0, anon0, rss1 = 0, anon1 = 0, pss1 = 0;
	unsigned opened = 0;
	int err;

	memset(r, 0, sizeof(*r));
	err = bt_init();
	if (!err)
		err = bt_agent_load(&agent, agent_path);
	if (err)
		goto out;
	stt = bt_stt_find("pocketsphinx");
	if (!stt) {
		err = bt_err(ENOENT, "no pocketsphinx provider");
		goto out;
	}
	err = grammars_make(&g, bt_agent_json(agent));
	if (err)
		goto out;
	stv = mem_zalloc(k * sizeof(*stv), NULL);
	if (!stv) {
		err = ENOMEM;
		goto out;
	}
	prm.grammars = g.v;
	prm.n_grammars = g.n;

	rss0 = status_mb("VmRSS");
	anon0 = status_mb("RssAnon");
	for (opened = 0; opened < k; opened++) {
		double t0 = cpu_s(), t;

		err = stt->alloch(&stv[opened], &prm);
		if (err)
			goto out;
		t = cpu_s() - t0;
		if (!opened) {
			r->cpu_first = t;
			rss1 = status_mb("VmRSS");
			anon1 = status_mb("RssAnon");
			pss1 = pss_mb();
			r->rss_first = rss1 - rss0;
			r->anon_first = anon1 - anon0;
			continue;
		}
		r->cpu_more += t / (k - 1);
		if (t > r->cpu_more_max)
			r->cpu_more_max = t;
	}
	if (k > 1) {
		r->rss_more = (status_mb("VmRSS") - rss1) / (k - 1);
		r->anon_more = (status_mb("RssAnon") - anon1) / (k - 1);
		r->pss_more = (pss_mb() - pss1) / (k - 1);
	}
	err = decode(stt, stv[0], false, r);
	if (!err)
		err = decode(stt, stv[0], true, r);

 out:
	if (err)
		fprintf(stderr, "bench_stt_setup: %s\n", bt_errmsg());
	for (unsigned i = 0; stv && i < opened; i++)
		mem_deref(stv[i]);
	mem_deref(stv);
	grammars_free(&g);
	mem_deref(agent);
	bt_close();
	return err;
}

static void print(const char *what, const struct result *r)
{
	printf("  %-12s first %6.1f MB RSS (%6.1f anon) %6.0f ms CPU; "
	       "each more %5.1f MB RSS (%5.1f anon, %5.1f PSS) %5.0f ms CPU "
	       "(max %.0f); "
	       "decode %.3f x real time (%.3f over the agent)\n", what,
	       r->rss_first, r->anon_first, 1e3 * r->cpu_first, r->rss_more,
	       r->anon_more, r->pss_more, 1e3 * r->cpu_more, 1e3 * r->cpu_more_max, r->rtf,
	       r->rtf_ov);
}

/* Run this program again with BT_PS_SHARE=share; its result from a pipe. */
static int child(const char *self, const char *share, unsigned k,
		 const char *agent, struct result *r)
{
	int fd[2], status = 0;
	ssize_t got = 0, m;
	pid_t pid;
	char karg[16];

	if (pipe(fd))
		return errno;
	snprintf(karg, sizeof(karg), "%u", k);
	pid = fork();
	if (pid < 0)
		return errno;
	if (!pid) {
		char fdarg[16];

		close(fd[0]);
		snprintf(fdarg, sizeof(fdarg), "%d", fd[1]);
		setenv("BT_PS_SHARE", share, 1);
		setenv("BT_BENCH_FD", fdarg, 1);
		execl(self, self, karg, agent, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	while ((size_t)got < sizeof(*r) &&
	       (m = read(fd[0], (char *)r + got, sizeof(*r) - (size_t)got)) > 0)
		got += m;
	close(fd[0]);
	waitpid(pid, &status, 0);
	if ((size_t)got != sizeof(*r) || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return EIO;
	return 0;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

/* one setting's result, its CPU figures the lower of two runs */
static void keep_lower(struct result *best, const struct result *r, int round)
{
	if (!round) {
		*best = *r;
		return;
	}
	if (r->cpu_first < best->cpu_first)
		best->cpu_first = r->cpu_first;
	if (r->cpu_more < best->cpu_more) {
		best->cpu_more = r->cpu_more;
		best->cpu_more_max = r->cpu_more_max;
	}
	if (r->rtf < best->rtf)
		best->rtf = r->rtf;
	if (r->rtf_ov < best->rtf_ov)
		best->rtf_ov = r->rtf_ov;
}

int main(int argc, char **argv)
{
	unsigned k = argc > 1 ? (unsigned)atoi(argv[1]) : 20;
	const char *agent = argc > 2 ? argv[2] : "agents/restaurant.json";
	const char *share = getenv("BT_PS_SHARE");
	const char *out_fd = getenv("BT_BENCH_FD");
	struct result on, off, r;
	int err = 0;

	if (k < 2) {
		fprintf(stderr, "bench_stt_setup: INSTANCES must be 2 or "
			"more\n");
		return 2;
	}
	if (share) {
		err = measure(k, agent, &on);
		if (err)
			return 1;
		if (out_fd) {
			int fd = atoi(out_fd);

			return write(fd, &on, sizeof(on)) == (ssize_t)sizeof(on)
				? 0 : 1;
		}
		printf("pocketsphinx set-up, %u instances of %s, BT_PS_SHARE=%s"
		       "\n", k, agent, share);
		print("", &on);
		printf("  transcript of %s: \"%s\"\n", wav_path, on.text);
		return 0;
	}

	printf("pocketsphinx set-up: %u instances with the grammars of %s, "
	       "one thread; CPU: the lower of %d runs\n", k, agent, ROUNDS);
	for (int round = 0; round < ROUNDS && !err; round++) {
		err = child("/proc/self/exe", "1", k, agent, &r);
		if (err)
			break;
		keep_lower(&on, &r, round);
		err = child("/proc/self/exe", "0", k, agent, &r);
		if (!err)
			keep_lower(&off, &r, round);
	}
	if (err) {
		fprintf(stderr, "bench_stt_setup: a measuring child failed\n");
		return 1;
	}
	print("shared:", &on);
	print("not shared:", &off);
	printf("  each more instance: %.1fx less RSS, %.1fx less CPU with "
	       "sharing; decode CPU ratio %.2f (shared / not)\n",
	       ratio(off.rss_more, on.rss_more),
	       ratio(off.cpu_more, on.cpu_more), ratio(on.rtf, off.rtf));
	printf("  transcript of %s: \"%s\"%s\n", wav_path, on.text,
	       strcmp(on.text, off.text) ? " (DIFFERS without sharing)" : "");
	return strcmp(on.text, off.text) ? 1 : 0;
}
