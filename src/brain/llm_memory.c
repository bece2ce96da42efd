/**
 * @file llm_memory.c  Memory across calls for an LLM agent: the read of
 *                     the caller's earlier calls on the worker pool (and
 *                     the responses that wait for it), the extractive
 *                     summary (the caller's words, the tools' results),
 *                     which llm_summary.c's model-written one falls back
 *                     to, and the write of either on the worker pool
 *                     (src/store/memory.c keeps it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "brain/llm_int.h"
#include "core/worker.h"
#include "net/loop.h"
#include "store/memory.h"

struct memory_job {
	struct bt_job job;
	char db[512], caller[128], summary[1024];
};

static void memory_work(struct bt_job *job)
{
	struct memory_job *mj = (struct memory_job *)job;

	(void)bt_memory_write(mj->db, mj->caller, mj->summary);
}

static void memory_free(struct bt_job *job)
{
	mem_deref(job);
}

/*
 * What this call leaves for the next one: the caller's words and the
 * tools that ran, from the newest history the brain saw (extractive; no
 * request to the model at the call's end).
 */
void llm_memory_extract(const char *history_json, const json_t *facts,
			char *buf, size_t sz)
{
	json_t *h = json_loads(history_json ? history_json : "[]", 0, NULL);
	size_t i, n_user = 0, o = 0, skip;
	json_t *it;

	buf[0] = '\0';
	json_array_foreach(h, i, it)
		if (!strcmp(json_string_value(json_object_get(it, "role")) ?
			    json_string_value(json_object_get(it, "role")) :
			    "", "user"))
			n_user++;
	skip = n_user > 6 ? n_user - 6 : 0;
	json_array_foreach(h, i, it) {
		const char *role = json_string_value(json_object_get(it,
								     "role"));
		const json_t *t = json_object_get(it, "tool");
		int k = 0;

		if (!role)
			continue;
		if (!strcmp(role, "user")) {
			if (skip) {
				skip--;
				continue;
			}
			k = snprintf(buf + o, sz - o, "%sthe caller said \"%.80s\"",
				     o ? "; " : "", json_string_value(
				     json_object_get(it, "text")));
		}
		(void)t;
		if (k < 0 || (size_t)k >= sz - o) {
			buf[o] = '\0';
			break;
		}
		o += (size_t)k;
	}
	json_array_foreach(facts, i, it) {
		int k = snprintf(buf + o, sz - o, "; %s",
				 json_string_value(it));
		if (k < 0 || (size_t)k >= sz - o) {
			buf[o] = '\0';
			break;
		}
		o += (size_t)k;
	}
	json_decref(h);
}

void llm_memory_store(const char *db, const char *caller,
		      const char *summary)
{
	struct memory_job *mj;

	if (!caller || !caller[0] || !summary || !summary[0])
		return;
	mj = mem_zalloc(sizeof(*mj), NULL);
	if (!mj)
		return;
	str_ncpy(mj->summary, summary, sizeof(mj->summary));
	str_ncpy(mj->db, db && db[0] ? db : "banter.db", sizeof(mj->db));
	str_ncpy(mj->caller, caller, sizeof(mj->caller));
	mj->job.work = memory_work;
	mj->job.freeh = memory_free;
	atomic_init(&mj->job.refs, 1);
	if (!bt_loop_current()) {
		/* the simulator: now, in order */
		memory_work(&mj->job);
		mem_deref(mj);
		return;
	}
	/* fire and forget: the pool holds the last reference */
	if (bt_worker_submit(&mj->job)) {
		mem_deref(mj);
		return;
	}
	bt_job_release(&mj->job);
}

void llm_memory_write(const char *db, const char *caller,
		      const char *history_json, const json_t *facts)
{
	char summary[1024];

	if (!caller || !caller[0] || !history_json)
		return;
	llm_memory_extract(history_json, facts, summary, sizeof(summary));
	llm_memory_store(db, caller, summary);
}

/*
 * The caller's memory is read on the worker pool as soon as the caller is
 * known (the session's set-up, a Realtime session.update naming the
 * caller) and comes back to the session's loop by message; a response
 * that starts before it is back waits for it at most memory.wait_ms
 * (llm.c). Without an event loop (the simulator) it is read inline.
 */
struct memory_read {
	struct bt_job job;
	struct llm_st *st;          /* NULL once the brain is gone */
	char db[512], caller[128];
	unsigned days, max;
	char memory[2048];
	int err;
	char errmsg[256];
};

static void read_work(struct bt_job *job)
{
	struct memory_read *mr = (struct memory_read *)job;
	unsigned n = 0;

	mr->err = bt_memory_recall(mr->db, mr->caller, mr->days, mr->max,
				   mr->memory, sizeof(mr->memory), &n);
	if (mr->err)
		str_ncpy(mr->errmsg, bt_errmsg(), sizeof(mr->errmsg));
}

/* A read that failed (the file locked past the busy timeout, unreadable)
 * is tried again by the next response; this one goes without. */
static void read_result(struct llm_st *st, const struct memory_read *mr)
{
	if (!mr->err) {
		str_ncpy(st->memory, mr->memory, sizeof(st->memory));
		return;
	}
	st->recalled = false;
	fprintf(stderr, "banter: memory: could not read %s's earlier calls "
		"from %s (%s); trying again at the next response\n",
		mr->caller, mr->db, mr->errmsg);
}

static void read_back(struct bt_job *job)
{
	struct memory_read *mr = (struct memory_read *)job;
	struct llm_st *st = mr->st;

	/* a dropped read is cancelled: its doneh does not run */
	if (!st || st->mread != mr)
		return;
	st->mread = NULL;
	read_result(st, mr);
	bt_job_release(job);  /* the brain's reference */
	llm_memory_ready(st);
}

void llm_memory_recall(struct llm_st *st, const char *caller)
{
	struct memory_read *mr;
	struct bt_loop *loop = bt_loop_current();

	if (!st->memory_on || !caller || !caller[0])
		return;
	if (st->recalled && !strcmp(st->caller, caller))
		return;
	llm_memory_drop(st);
	str_ncpy(st->caller, caller, sizeof(st->caller));
	st->recalled = true;
	st->memory[0] = '\0';
	mr = mem_zalloc(sizeof(*mr), NULL);
	if (!mr)
		return;
	mr->st = st;
	str_ncpy(mr->db, st->db_path[0] ? st->db_path : "banter.db",
		 sizeof(mr->db));
	str_ncpy(mr->caller, caller, sizeof(mr->caller));
	mr->days = st->memory_days;
	mr->max = st->memory_max;
	mr->job.work = read_work;
	mr->job.freeh = memory_free;
	mr->job.loop = loop;
	mr->job.doneh = read_back;
	atomic_init(&mr->job.refs, 1);
	if (!loop) {
		/* the simulator: now, in order */
		read_work(&mr->job);
		read_result(st, mr);
		mem_deref(mr);
		return;
	}
	if (bt_worker_submit(&mr->job)) {
		fprintf(stderr, "banter: memory: could not queue the read of "
			"%s's earlier calls (%s); this call goes on without "
			"them\n", caller, bt_errmsg());
		mem_deref(mr);
		return;
	}
	st->mread = mr;
}

void llm_memory_drop(struct llm_st *st)
{
	struct memory_read *mr = st->mread;

	if (!mr)
		return;
	st->mread = NULL;
	mr->st = NULL;
	atomic_store(&mr->job.cancelled, true);
	bt_job_release(&mr->job);
}

void llm_memory_note(const struct resp *r)
{
	json_t *m;

	if (!r->st || !r->base || !r->st->memory_on)
		return;
	/* the call as the model last saw it, and its answer (each round's
	 * text is in local, with tool calls or not) */
	m = json_copy(r->base);
	json_array_extend(m, r->local);
	json_decref(r->st->last_msgs);
	r->st->last_msgs = m;
}

/* The response's request, its system prompt with the caller's memory
 * (as far as it has been read). */
void llm_resp_go(struct resp *r)
{
	struct llm_st *st = r->st;
	const char *sys = r->in_sys;
	size_t n;

	r->mem_wait = false;
	tmr_cancel(&r->tmr_mem);
	n = (sys ? strlen(sys) : 0) + strlen(st->memory) + 200;
	r->system_buf = mem_alloc(n, NULL);
	if (r->system_buf)
		snprintf(r->system_buf, n, "%s%s%s", sys ? sys : "",
			 st->memory[0] ? "\n\nWhat you know about this caller "
			 "from earlier calls (oldest first):\n" : "",
			 st->memory);
	r->system = r->system_buf;

	if (r->in_type == BT_BRAIN_TRANSFER) {
		llm_transfer_failed(r, r->in_text ? r->in_text : "");
		return;
	}
	if (r->in_type == BT_BRAIN_USER && st->has_held) {
		llm_answer_held(st, r, r->in_text ? r->in_text : "");
		return;
	}
	if (r->in_type == BT_BRAIN_USER &&
	    llm_route_big(st, r->in_text ? r->in_text : "")) {
		r->t = &st->big;
		llm_filler(r, st->route_filler);
	}
	llm_resp_request(r);
}

/* The read took longer than memory.wait_ms: this response goes without
 * the caller's memory; the next ones have it once it is back. */
void llm_memory_late(void *arg)
{
	struct resp *r = arg;

	if (!r->st || !r->mem_wait)
		return;
	fprintf(stderr, "banter: memory: %s's earlier calls were not read "
		"within %u ms (llm.memory.wait_ms); answering without them, "
		"the next response has them\n", r->st->caller,
		(unsigned)r->st->memory_wait_ms);
	llm_resp_go(r);
}

void llm_memory_ready(struct llm_st *st)
{
	struct le *le = st->resps.head;

	while (le) {
		struct resp *r = le->data;

		le = le->next;
		if (r->mem_wait && !r->cancelled)
			llm_resp_go(r);
	}
}
