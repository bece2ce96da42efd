/**
 * @file llm_late.c  A tool still running when its call ends (a slow
 *                   webhook, the caller hung up): its result is kept.
 *
 * The brain goes with the session, but the tool's response is handed
 * over here instead of freed: it cuts its ties to the session (its sink,
 * and with it the session's tag) and to the brain, and lives on the loop
 * until the tool's run ends (the webhook's own timeout and retries bound
 * it). The session's trace says, before it closes, which tools were still
 * running (a "tool" event with "pending": true); when one ends, its
 * result goes into the call's memory record, written then rather than at
 * the call's end (memory on and a caller id), and to the log.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "brain/llm_int.h"

struct llm_late {
	char db[512], caller[128], session_id[64];
	char *history;        /* the newest history the brain saw */
	json_t *facts;        /* the call's tool results, the late ones too */
	bool memory_on;
};

/* responses of ended calls on this thread whose tools still run: the
 * simulator waits for them */
static _Thread_local unsigned n_late;

unsigned bt_brain_llm_late(void)
{
	return n_late;
}

static void late_destructor(void *arg)
{
	struct llm_late *l = arg;

	if (l->memory_on)
		llm_memory_write(l->db, l->caller, l->history, l->facts);
	mem_deref(l->history);
	json_decref(l->facts);
}

static struct llm_late *late_alloc(struct llm_st *st)
{
	struct llm_late *l = mem_zalloc(sizeof(*l), late_destructor);

	if (!l)
		return NULL;
	str_ncpy(l->db, st->db_path, sizeof(l->db));
	str_ncpy(l->caller, st->caller, sizeof(l->caller));
	str_ncpy(l->session_id, st->session_id, sizeof(l->session_id));
	l->memory_on = st->memory_on && !st->memory_read_only;
	/* the memory record is written when the last tool ends */
	l->history = st->last_history;
	st->last_history = NULL;
	l->facts = json_incref(st->facts);
	return l;
}

bool llm_late_adopt(struct llm_st *st)
{
	struct llm_late *late = NULL;
	struct le *le = st->resps.head;

	while (le) {
		struct resp *r = le->data;

		le = le->next;
		if (!r->pending)
			continue;
		if (!late)
			late = late_alloc(st);
		if (!late)
			return false;  /* out of memory: freed with the brain */
		/* the session's trace, while it is still there */
		for (unsigned i = 0; i < r->n_calls; i++)
			if (r->calls[i].run && r->sink.toolh)
				r->sink.toolh(r->calls[i].name,
					      llm_call_args(&r->calls[i]), NULL,
					      EINPROGRESS, r->sink.arg);
		n_late++;
		list_unlink(&r->le);
		r->st = NULL;
		r->cancelled = true;
		r->http = mem_deref(r->http);
		tmr_cancel(&r->tmr_first);
		tmr_cancel(&r->tmr_filler);
		tmr_cancel(&r->tmr_retry);
		mem_deref(r->sink.arg);
		memset(&r->sink, 0, sizeof(r->sink));
		r->late = mem_ref(late);
	}
	mem_deref(late);  /* each late response holds it now */
	return late != NULL;
}

void llm_late_result(struct resp *r, struct call *c, const char *result)
{
	struct llm_late *l = r->late;
	char f[480];

	fprintf(stderr, "banter: session %s: the tool %s (call %s) ended "
		"after the call: %.300s%s\n", l->session_id, c->name, c->id,
		result, l->memory_on && l->caller[0] ? "; kept in the "
		"caller's memory" : "");
	if (json_array_size(l->facts) >= 16)
		return;
	snprintf(f, sizeof(f), "%.64s %.120s gave %.200s (after the call "
		 "ended)", c->name, llm_call_args(c), result);
	json_array_append_new(l->facts, json_string(f));
}

void llm_late_gone(struct resp *r)
{
	r->late = mem_deref(r->late);
	if (n_late)
		n_late--;
}
