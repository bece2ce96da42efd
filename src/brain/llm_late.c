/**
 * @file llm_late.c  The call's memory record, and the tools still running
 *                   when the call ends (a slow webhook, the caller hung
 *                   up): their results are kept.
 *
 * When the brain goes, what the record needs (the newest history, the
 * call as messages, the tools' results; a flow's hand-off: the flow's
 * record) moves into a record object. With no tool running it is written
 * at once. Otherwise each response whose tool runs is handed over instead
 * of freed: it cuts its ties to the session (its sink, and with it the
 * session's tag) and to the brain, holds the record, and lives on the
 * loop until the tool's run ends (the webhook's own timeout and retries
 * bound it). The session's trace says, before it closes, which tools were
 * still running (a "tool" event with "pending": true); when one ends, its
 * result goes to the log and into the record, which is written when the
 * last of them ends: the model's summary when llm.memory asks for one
 * (the late result in the call's transcript), else the extractive one,
 * which is also the model's fallback.
 *
 * A server that stops waits for them (bt_llm_late_wait), as long as their
 * runs may still take, at most LATE_WAIT_MAX_MS; past that the records
 * are written without the results that did not come.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "brain/llm_int.h"
#include "brain/llm_summary.h"
#include "net/loop.h"

#define LATE_WAIT_MAX_MS 60000
#define SYNC_MS 5000            /* for the loops to run what is queued */
#define FACTS_MAX 16

struct llm_late {
	char db[512], caller[128], session_id[64];
	char *history;        /* the newest history the brain (or flow) saw */
	json_t *msgs;         /* the call as messages, or NULL: history's */
	json_t *facts;        /* the call's tool results, the late ones too
				 (a flow's record: the late ones only) */
	char *extract;        /* a flow's extractive summary, or NULL */
	bool write;           /* memory on and the record this brain's */
	bool by_model;
	struct llm_target t;
	uint32_t timeout_ms;
};

/* responses of ended calls on this thread whose tools still run: the
 * simulator waits for them, a stopping server ends them (abort_h) */
static _Thread_local unsigned n_late;
static _Thread_local struct list late_resps;

/* all threads': what a stopping server waits for */
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned n_all;
static uint32_t longest_ms;

unsigned bt_brain_llm_late(void)
{
	return n_late;
}

/* The extractive summary: the flow's with the late results after it, or
 * the caller's words and the tools' results. */
static void record_extract(const struct llm_late *l, char *buf, size_t sz)
{
	size_t i, o;
	const json_t *f;

	if (!l->extract) {
		llm_memory_extract(l->history, l->facts, buf, sz);
		return;
	}
	str_ncpy(buf, l->extract, sz);
	o = strlen(buf);
	json_array_foreach(l->facts, i, f) {
		int k = snprintf(buf + o, sz - o, "%s%s", o ? "; " : "",
				 json_string_value(f));

		if (k < 0 || (size_t)k >= sz - o) {
			buf[o] = '\0';
			break;
		}
		o += (size_t)k;
	}
}

static void late_destructor(void *arg)
{
	struct llm_late *l = arg;
	char ex[1024];

	if (l->write && l->caller[0]) {
		record_extract(l, ex, sizeof(ex));
		if (l->by_model)
			llm_summary_start(&l->t, l->db, l->caller, l->history,
					  l->msgs, l->facts, ex,
					  l->timeout_ms);
		else
			llm_memory_store(l->db, l->caller, ex);
	}
	mem_deref(l->history);
	mem_deref(l->extract);
	json_decref(l->msgs);
	json_decref(l->facts);
}

static struct llm_late *record_alloc(struct llm_st *st)
{
	struct llm_late *l = mem_zalloc(sizeof(*l), late_destructor);

	if (!l)
		return NULL;
	str_ncpy(l->db, st->db_path[0] ? st->db_path : "banter.db",
		 sizeof(l->db));
	str_ncpy(l->session_id, st->session_id, sizeof(l->session_id));
	l->by_model = st->memory_on && st->summary_by_model;
	l->t = st->summary_t;
	l->timeout_ms = st->summary_timeout_ms;
	if (st->flow_rec) {
		/* the flow's record of the whole call; the hand-off's own
		 * results are in it already */
		l->write = true;
		str_ncpy(l->caller, st->flow_caller, sizeof(l->caller));
		l->history = st->flow_history;
		st->flow_history = NULL;
		l->extract = st->flow_extract;
		st->flow_extract = NULL;
		l->facts = json_array();
		l->msgs = llm_history_msgs(l->history, NULL,
					   SUMMARY_HISTORY_TOKENS);
		/* what the flow gathered after the last turn (its last
		 * tool, say) is in its summary, not yet in the history */
		if (l->msgs && l->extract && l->extract[0]) {
			char note[1200];

			snprintf(note, sizeof(note), "Recorded during the "
				 "call: %s", l->extract);
			json_array_append_new(l->msgs, json_pack("{s:s,s:s}",
				"role", "system", "content", note));
		}
		return l;
	}
	l->write = st->memory_on && !st->memory_read_only;
	str_ncpy(l->caller, st->caller, sizeof(l->caller));
	l->history = st->last_history;
	st->last_history = NULL;
	l->msgs = st->last_msgs;
	st->last_msgs = NULL;
	l->facts = json_incref(st->facts);
	return l;
}

/* The late response's messages, if they tell more of the call than the
 * record's: its base (the history then) and its rounds, the tool call
 * that still runs among them. */
static void record_take_msgs(struct llm_late *l, const struct resp *r)
{
	json_t *m;

	if (!r->base || (l->msgs && json_array_size(l->msgs) >=
			 json_array_size(r->base) + json_array_size(r->local)))
		return;
	m = json_copy(r->base);
	if (!m)
		return;
	json_array_extend(m, r->local);
	json_decref(l->msgs);
	l->msgs = m;
}

static void adopt(struct llm_late *l, struct resp *r, bool flow)
{
	uint32_t left = 0;

	/* the session's trace, while it is still there */
	for (unsigned i = 0; i < r->n_calls; i++) {
		if (!r->calls[i].run)
			continue;
		if (r->sink.toolh)
			r->sink.toolh(r->calls[i].name,
				      llm_call_args(&r->calls[i]), NULL,
				      EINPROGRESS, r->sink.arg);
		if (llm_tool_left_ms(r->calls[i].run) > left)
			left = llm_tool_left_ms(r->calls[i].run);
	}
	if (!flow)
		record_take_msgs(l, r);
	n_late++;
	pthread_mutex_lock(&mtx);
	n_all++;
	if (left > longest_ms)
		longest_ms = left;
	pthread_mutex_unlock(&mtx);
	list_unlink(&r->le);
	list_append(&late_resps, &r->le, r);
	r->st = NULL;
	r->cancelled = true;
	r->http = mem_deref(r->http);
	tmr_cancel(&r->tmr_first);
	tmr_cancel(&r->tmr_filler);
	tmr_cancel(&r->tmr_retry);
	mem_deref(r->sink.arg);
	memset(&r->sink, 0, sizeof(r->sink));
	r->late = mem_ref(l);
}

void llm_record_end(struct llm_st *st)
{
	struct llm_late *l = record_alloc(st);
	struct le *le = st->resps.head;
	const bool flow = st->flow_rec;

	if (!l)
		return;  /* out of memory: the tools go with the brain */
	while (le) {
		struct resp *r = le->data;

		le = le->next;
		if (r->pending)
			adopt(l, r, flow);
	}
	/* written now, or when the last late response lets it go */
	mem_deref(l);
}

void llm_record_flow(struct bt_brain_st *bst, const char *caller,
		     const char *history_json, const char *extract)
{
	struct llm_st *st = (struct llm_st *)bst;

	if (!st || !caller || !caller[0])
		return;
	st->flow_history = mem_deref(st->flow_history);
	st->flow_extract = mem_deref(st->flow_extract);
	if (history_json)
		(void)str_dup(&st->flow_history, history_json);
	(void)str_dup(&st->flow_extract, extract ? extract : "");
	str_ncpy(st->flow_caller, caller, sizeof(st->flow_caller));
	st->flow_rec = true;
}

void llm_late_result(struct resp *r, struct call *c, const char *result)
{
	struct llm_late *l = r->late;
	char f[480], *m;
	size_t n;

	fprintf(stderr, "banter: session %s: the tool %s (call %s) ended "
		"after the call: %.300s%s\n", l->session_id, c->name, c->id,
		result, l->write && l->caller[0] ? "; kept in the caller's "
		"memory" : "");
	if (json_array_size(l->facts) >= FACTS_MAX)
		return;
	snprintf(f, sizeof(f), "%.64s %.120s gave %.200s (after the call "
		 "ended)", c->name, llm_call_args(c), result);
	json_array_append_new(l->facts, json_string(f));
	/* into the transcript the model summarises, next to its call */
	if (!l->msgs)
		l->msgs = l->history ? llm_history_msgs(l->history, NULL,
				SUMMARY_HISTORY_TOKENS) : json_array();
	n = strlen(result) + 40;
	m = mem_alloc(n, NULL);
	if (!l->msgs || !m) {
		mem_deref(m);
		return;
	}
	snprintf(m, n, "%s (after the call ended)", result);
	json_array_append_new(l->msgs, json_pack("{s:s,s:s,s:s,s:s}", "role",
		"tool", "tool_call_id", c->id, "name", c->name, "content", m));
	mem_deref(m);
}

void llm_late_gone(struct resp *r)
{
	r->late = mem_deref(r->late);
	if (n_late)
		n_late--;
	pthread_mutex_lock(&mtx);
	if (n_all)
		n_all--;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&mtx);
}

/* ---- a stopping server ---- */

/* Past the wait: this loop's late responses end; their records are
 * written with what they have, saying which tools gave nothing. */
static void abort_h(void *arg)
{
	(void)arg;
	while (late_resps.head) {
		struct resp *r = late_resps.head->data;
		struct llm_late *l = r->late;

		for (unsigned i = 0; i < r->n_calls; i++) {
			struct call *c = &r->calls[i];
			char f[400];

			if (!c->run)
				continue;
			fprintf(stderr, "banter: session %s: the tool %s (call "
				"%s) had not ended when the program stopped; "
				"its result is lost\n", l ? l->session_id : "",
				c->name, c->id);
			if (!l || json_array_size(l->facts) >= FACTS_MAX)
				continue;
			snprintf(f, sizeof(f), "%.64s %.120s gave no result "
				 "before the program stopped", c->name,
				 llm_call_args(c));
			json_array_append_new(l->facts, json_string(f));
		}
		/* unlinks it; its runs go with it, their handlers unrun */
		mem_deref(r);
	}
}

void bt_llm_late_wait(void)
{
	struct timespec end;
	unsigned n_loops = bt_loops_count(), left;
	uint32_t bound;

	if (!n_loops || bt_loop_current())
		return;
	/* sessions freed just now hand over their tools on their loops */
	llm_loops_sync(SYNC_MS);
	pthread_mutex_lock(&mtx);
	bound = (longest_ms < LATE_WAIT_MAX_MS ? longest_ms :
		 LATE_WAIT_MAX_MS) + 1000;
	llm_deadline(&end, bound);
	while (n_all && pthread_cond_timedwait(&cond, &mtx, &end) !=
	       ETIMEDOUT)
		;
	left = n_all;
	pthread_mutex_unlock(&mtx);
	if (!left)
		return;
	/* before the summaries' wait, which these records may add to (the
	 * loops' queues run in order) */
	for (unsigned i = 0; i < n_loops; i++)
		(void)bt_loop_call(bt_loop_at(i), abort_h, NULL);
}
