/**
 * @file llm_memory.c  What an LLM agent leaves for the caller's next
 *                     call: the extractive summary (the caller's words,
 *                     the tools' results), which llm_summary.c's
 *                     model-written one falls back to, and the write of
 *                     either on the worker pool (src/store/memory.c keeps
 *                     it).
 */
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

/* The system prompt with what earlier calls left: read when a response
 * starts for a caller not read yet (a Realtime client may name its caller
 * after the call began, or name another). */
void llm_memory_recall(struct llm_st *st, const char *caller)
{
	unsigned n = 0;

	if (!st->memory_on || !caller || !caller[0])
		return;
	if (st->recalled && !strcmp(st->caller, caller))
		return;
	str_ncpy(st->caller, caller, sizeof(st->caller));
	st->recalled = true;
	st->memory[0] = '\0';
	(void)bt_memory_recall(st->db_path[0] ? st->db_path : "banter.db",
			       caller, st->memory_days, st->memory_max,
			       st->memory, sizeof(st->memory), &n);
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
