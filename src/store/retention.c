/**
 * @file retention.c  The server deletes recordings older than their agent's
 *                    "retention_days": once at start (before it serves),
 *                    then every hour on the worker pool.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "core/consent.h"
#include "core/worker.h"
#include "store/recording.h"
#include "store/retention.h"

enum { MAX_DIRS = 32, EVERY_MS = 3600 * 1000 };

struct rule {
	char dir[512];
	unsigned days;
};

struct bt_retention {
	struct tmr tmr;
	struct rule rules[MAX_DIRS];
	size_t n;
	struct bt_job *job;   /* the hourly purge in flight, if any */
};

struct purge_job {
	struct bt_job job;
	struct rule rules[MAX_DIRS];
	size_t n;
};

/* On a worker (or at start): each folder once, printing what went. */
static void purge_all(const struct rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned k = 0;
		int err = rec_purge(rules[i].dir, rules[i].days, &k);

		if (err)
			printf("banter serve: recordings: %s\n", bt_errmsg());
		if (k)
			printf("banter serve: recordings: deleted %u file%s "
			       "older than %u day%s in %s\n", k,
			       k == 1 ? "" : "s", rules[i].days,
			       rules[i].days == 1 ? "" : "s", rules[i].dir);
	}
	fflush(stdout);
}

static void job_work(struct bt_job *job)
{
	struct purge_job *pj = (struct purge_job *)job;

	purge_all(pj->rules, pj->n);
}

static void job_free(struct bt_job *job)
{
	free(job);
}

static void tick(void *arg)
{
	struct bt_retention *rt = arg;
	struct purge_job *pj;

	tmr_start(&rt->tmr, EVERY_MS, tick, rt);
	/* a purge still running (a huge folder) is not doubled */
	if (rt->job && !bt_job_done(rt->job))
		return;
	bt_job_release(rt->job);
	rt->job = NULL;
	pj = calloc(1, sizeof(*pj));
	if (!pj)
		return;
	pj->job.work = job_work;
	pj->job.freeh = job_free;
	atomic_init(&pj->job.refs, 1);
	memcpy(pj->rules, rt->rules, sizeof(rt->rules));
	pj->n = rt->n;
	if (bt_worker_submit(&pj->job)) {
		bt_job_run_inline(&pj->job);
		bt_job_release(&pj->job);
		return;
	}
	rt->job = &pj->job;
}

static void destructor(void *arg)
{
	struct bt_retention *rt = arg;

	tmr_cancel(&rt->tmr);
	bt_job_release(rt->job);
}

int bt_retention_start(struct bt_retention **rtp,
		       struct bt_agent *const *agents, size_t n_agents)
{
	struct bt_retention *rt;

	if (!rtp || (n_agents && !agents))
		return EINVAL;
	*rtp = NULL;
	rt = mem_zalloc(sizeof(*rt), destructor);
	if (!rt)
		return ENOMEM;
	tmr_init(&rt->tmr);
	for (size_t i = 0; i < n_agents && rt->n < MAX_DIRS; i++) {
		unsigned days = 0;
		const char *dir = bt_recording_dir(agents[i], &days);
		bool seen = false;

		if (!dir || !days)
			continue;
		for (size_t j = 0; j < rt->n; j++) {
			if (strcmp(rt->rules[j].dir, dir))
				continue;
			/* two agents, one folder: the shorter period wins */
			if (days < rt->rules[j].days)
				rt->rules[j].days = days;
			seen = true;
		}
		if (seen)
			continue;
		str_ncpy(rt->rules[rt->n].dir, dir, sizeof(rt->rules[0].dir));
		rt->rules[rt->n++].days = days;
	}
	if (!rt->n) {
		mem_deref(rt);
		return 0;
	}
	for (size_t i = 0; i < rt->n; i++)
		printf("banter serve: recordings in %s are kept %u day%s\n",
		       rt->rules[i].dir, rt->rules[i].days,
		       rt->rules[i].days == 1 ? "" : "s");
	purge_all(rt->rules, rt->n);
	tmr_start(&rt->tmr, EVERY_MS, tick, rt);
	*rtp = rt;
	return 0;
}
