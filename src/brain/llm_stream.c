/**
 * @file llm_stream.c  One round of an LLM response: its request, the
 *                     answer streamed delta by delta to the speech
 *                     planner (text, tool calls), the first-token
 *                     timeout, and a failure that retries or falls back
 *                     along the agent's chain.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "brain/llm_int.h"
#include "brain/slots.h"
#include "brain/transfer.h"
#include "net/http.h"
#include "net/sse.h"

static void first_token(struct resp *r)
{
	if (r->got_first)
		return;
	r->got_first = true;
	tmr_cancel(&r->tmr_first);
}

static void on_text(const char *text, void *arg)
{
	struct resp *r = arg;

	first_token(r);
	tmr_cancel(&r->tmr_filler);
	(void)mbuf_write_str(r->text, text);
	llm_say(r, text);
}

static void on_tool(unsigned index, const char *id, const char *name,
		    const char *args, void *arg)
{
	struct resp *r = arg;
	struct call *c;

	first_token(r);
	if (index >= MAX_CALLS)
		return;
	c = &r->calls[index];
	c->r = r;
	if (index >= r->n_calls)
		r->n_calls = index + 1;
	if (id && id[0])
		str_ncpy(c->id, id, sizeof(c->id));
	if (name && name[0]) {
		size_t l = strlen(c->name);
		str_ncpy(c->name + l, name, sizeof(c->name) - l);
	}
	if (args && args[0]) {
		if (!c->args)
			c->args = mbuf_alloc(128);
		if (c->args && c->args->end + strlen(args) < 65536)
			(void)mbuf_write_str(c->args, args);
	}
}

static void on_finish(const char *reason, void *arg)
{
	struct resp *r = arg;

	str_ncpy(r->finish, reason, sizeof(r->finish));
}

static void on_serror(const char *msg, void *arg)
{
	struct resp *r = arg;

	str_ncpy(r->serr, msg, sizeof(r->serr));
}

static int on_event(const char *event, const char *data, size_t len,
		    void *arg)
{
	struct resp *r = arg;
	struct llm_stream_h h = {on_text, on_tool, on_finish, on_serror, r};
	int err;

	(void)len;
	err = llm_wire_event(r->t->wire, event, data, &h, &r->stream_end);
	if (err)
		snprintf(r->serr, sizeof(r->serr), "a malformed event in the "
			 "stream: %.120s", data);
	/* the handlers may have cancelled the response: stop reading */
	return err ? err : (r->cancelled ? ECANCELED : 0);
}

static int on_data(const char *buf, size_t n, void *arg)
{
	struct resp *r = arg;

	return bt_sse_feed(r->sse, buf, n);
}

static void retry_tmr(void *arg)
{
	llm_resp_request(arg);
}

/* The response cannot go on with this provider: fall back. */
static void failed(struct resp *r, const char *why, uint32_t retry_after_s)
{
	struct llm_st *st = r->st;
	char from[200];

	snprintf(from, sizeof(from), "%s model \"%s\"", r->t->provider,
		 r->t->model);
	r->http = mem_deref(r->http);
	tmr_cancel(&r->tmr_first);
	if (r->cancelled || !st)
		return;
	if (r->text->end && !r->restarted) {
		/* the caller heard the start of an answer that will not
		 * come: say so, and the fallback answers from the top */
		llm_say(r, " Sorry, let me start again. ");
		r->restarted = true;
	}
	if (retry_after_s && retry_after_s <= RETRY_AFTER_MAX_S &&
	    !r->retried) {
		llm_report(r, "the brain's %s is rate-limited (%s); "
			     "retrying in %u s", from, why, retry_after_s);
		r->retried = true;
		tmr_start(&r->tmr_retry, retry_after_s * 1000, retry_tmr,
			  r);
		return;
	}
	if (r->chain_pos < st->n_chain) {
		const struct llm_target *t = &st->chain[r->chain_pos++];

		r->t = t;
		r->retried = false;
		if (t->say[0]) {
			llm_report(r, "the brain's %s failed (%s); said the "
				     "fallback line instead", from, why);
			llm_say(r, t->say);
			llm_resp_done(r);
			return;
		}
		llm_report(r, "the brain's %s failed (%s); falling back to "
			     "%s model \"%s\"", from, why, t->provider,
			     t->model);
		llm_resp_request(r);
		return;
	}
	llm_report(r, "the brain's %s failed (%s) and no fallback is "
		     "left; apologised to the caller (add \"llm.fallback\" "
		     "to the agent)", from, why);
	llm_say(r, DEF_APOLOGY);
	llm_resp_done(r);
}

static void first_token_timeout(void *arg)
{
	struct resp *r = arg;
	char why[100];

	snprintf(why, sizeof(why), "no first token within %u ms",
		 r->st ? r->st->first_token_ms : 0);
	failed(r, why, 0);
}

static void on_done(const struct bt_http_result *res, void *arg)
{
	struct resp *r = arg;
	char why[700];

	r->http = mem_deref(r->http);
	if (r->cancelled)
		return;
	if (res->status && (res->status < 200 || res->status >= 300)) {
		char m[400];
		llm_wire_errmsg(res->body, m, sizeof(m));
		snprintf(why, sizeof(why), "HTTP %ld: %s", res->status, m);
		failed(r, why, res->status == 429 || res->status == 503 ||
		       res->status == 529 ? (res->retry_after_s ?
					     res->retry_after_s : 0) : 0);
		return;
	}
	if (r->serr[0]) {
		failed(r, r->serr, 0);
		return;
	}
	if (res->err) {
		failed(r, res->errmsg, 0);
		return;
	}
	if (!r->stream_end && !r->finish[0]) {
		failed(r, "the stream ended before the model finished", 0);
		return;
	}
	llm_run_tools(r);
}

void llm_resp_request(struct resp *r)
{
	struct llm_st *st = r->st;
	struct llm_req rq;
	struct bt_http_prm prm;
	char hdr[4][300];
	const char *hdrs[5];
	json_t *msgs;
	char *body = NULL;
	int err;

	if (!st || r->cancelled)
		return;
	r->sse = mem_deref(r->sse);
	err = bt_sse_alloc(&r->sse, 0, on_event, r);
	if (err) {
		failed(r, "out of memory", 0);
		return;
	}
	r->text->end = r->text->pos = 0;
	r->stream_end = r->got_first = false;
	r->finish[0] = r->serr[0] = '\0';
	for (unsigned i = 0; i < MAX_CALLS; i++)
		llm_call_reset(&r->calls[i]);
	r->n_calls = 0;

	memset(&rq, 0, sizeof(rq));
	rq.t = r->t;
	rq.system = r->system;
	rq.tools = r->tools;
	rq.max_tokens = st->max_tokens;
	rq.temperature = st->temperature;
	msgs = json_copy(r->base);
	json_array_extend(msgs, r->local);
	err = llm_wire_body(&rq, msgs, &body);
	json_decref(msgs);
	if (err) {
		failed(r, "cannot write the request", 0);
		return;
	}
	llm_wire_headers(r->t, hdr, hdrs);
	memset(&prm, 0, sizeof(prm));
	prm.method = "POST";
	prm.url = r->t->url;
	prm.headers = hdrs;
	prm.body = body;
	prm.body_len = strlen(body);
	prm.timeout_ms = st->timeout_ms;
	prm.connect_timeout_ms = st->first_token_ms;
	err = bt_http_start(&r->http, &prm, on_data, on_done, r);
	mem_deref(body);
	if (err) {
		failed(r, bt_errmsg(), 0);
		return;
	}
	tmr_start(&r->tmr_first, st->first_token_ms, first_token_timeout, r);
}
