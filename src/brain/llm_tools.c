/**
 * @file llm_tools.c  Running an LLM's tool calls: the engine's built-in
 *                    tools (on the worker pool, as the flow engine runs
 *                    them) and webhooks (an HTTP POST on the session's
 *                    loop, retried with the call id as idempotency key).
 *
 * A run always ends in its done handler with a JSON result, an error
 * object if the tool failed ({"error": "..."}), so the model can tell the
 * caller; only freeing the run drops it, which the session's end no longer
 * does: a run still going then keeps its response (llm_late.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "brain/llm_int.h"
#include "brain/transfer.h"
#include "core/worker.h"
#include "net/http.h"
#include "net/loop.h"

#define WEBHOOK_TIMEOUT_MS 5000
#define WEBHOOK_RETRIES 2
#define RETRY_BASE_MS 200

struct tool_job {
	struct bt_job job;
	struct llm_tool_run *run;  /* NULL once the run is freed */
	const struct bt_tool *tool;
	json_t *args, *result;
	struct bt_brain_ctx ctx;
	char db_path[512], session_id[64];
	int err;
	char errmsg[512];
};

struct llm_tool_run {
	llm_tool_done_h *doneh;
	void *arg;
	struct tool_job *job;
	struct bt_http *http;
	struct tmr tmr;
	struct mbuf *body;   /* the webhook's answer */
	char *req;           /* the webhook's request body */
	char url[512];
	char name[64];
	char idem[200];
	uint32_t timeout_ms;
	unsigned attempts, retries;
};

static void run_destructor(void *arg)
{
	struct llm_tool_run *r = arg;

	if (r->job) {
		r->job->run = NULL;
		atomic_store(&r->job->job.cancelled, true);
		bt_job_release(&r->job->job);
	}
	tmr_cancel(&r->tmr);
	mem_deref(r->http);
	mem_deref(r->body);
	mem_deref(r->req);
}

static void report(struct llm_tool_run *r, int err, const json_t *result,
		   const char *why)
{
	char *js = NULL;

	if (!err && result) {
		js = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
	}
	else {
		json_t *e = json_pack("{s:s}", "error", why && why[0] ? why :
				      "the tool failed");
		js = json_dumps(e, JSON_COMPACT);
		json_decref(e);
		if (!err)
			err = EIO;
	}
	r->doneh(err, js ? js : "{\"error\":\"out of memory\"}", r->arg);
	free(js);
}

/* ---- built-in tools ---- */

static void job_work(struct bt_job *job)
{
	struct tool_job *tj = (struct tool_job *)job;

	bt_err_clear();
	tj->err = tj->tool->callh(tj->args, &tj->ctx, &tj->result);
	if (tj->err)
		str_ncpy(tj->errmsg, bt_errmsg(), sizeof(tj->errmsg));
}

static void job_free(struct bt_job *job)
{
	struct tool_job *tj = (struct tool_job *)job;

	json_decref(tj->args);
	json_decref(tj->result);
	mem_deref(tj);
}

static void job_back(struct bt_job *job)
{
	struct tool_job *tj = (struct tool_job *)job;
	struct llm_tool_run *r = tj->run;

	if (!r)
		return;
	r->job = NULL;
	report(r, tj->err, tj->result, tj->errmsg);
	bt_job_release(job);
}

static int builtin_start(struct llm_tool_run *r, const struct bt_tool *tool,
			 const struct llm_tool_prm *prm)
{
	struct tool_job *tj = mem_zalloc(sizeof(*tj), NULL);
	struct bt_loop *loop = bt_loop_current();

	if (!tj)
		return ENOMEM;
	tj->args = json_loads(prm->args && prm->args[0] ? prm->args : "{}",
			      0, NULL);
	if (!json_is_object(tj->args)) {
		json_decref(tj->args);
		mem_deref(tj);
		return bt_err(EINVAL, "the arguments of %s are not a JSON "
			      "object", prm->name);
	}
	tj->tool = tool;
	tj->run = r;
	if (prm->ctx) {
		str_ncpy(tj->db_path, prm->ctx->db_path ? prm->ctx->db_path :
			 "", sizeof(tj->db_path));
		str_ncpy(tj->session_id, prm->ctx->session_id ?
			 prm->ctx->session_id : "", sizeof(tj->session_id));
	}
	tj->ctx.db_path = tj->db_path[0] ? tj->db_path : NULL;
	tj->ctx.session_id = tj->session_id;
	tj->job.work = job_work;
	tj->job.freeh = job_free;
	tj->job.doneh = job_back;
	atomic_init(&tj->job.refs, 1);
	if (!loop) {
		/* the simulator: inline, in order */
		job_work(&tj->job);
		r->job = tj;
		tj->job.loop = NULL;
		job_back(&tj->job);
		return 0;
	}
	tj->job.loop = loop;
	r->job = tj;
	if (bt_worker_submit(&tj->job)) {
		r->job = NULL;
		job_free(&tj->job);
		return bt_err(ENOMEM, "cannot queue the tool %s", prm->name);
	}
	return 0;
}

/* ---- webhooks ---- */

static void webhook_send(struct llm_tool_run *r);

static int webhook_data(const char *buf, size_t n, void *arg)
{
	struct llm_tool_run *r = arg;

	if (r->body->end + n > 65536)
		return EMSGSIZE;
	return mbuf_write_mem(r->body, (const uint8_t *)buf, n);
}

static void retry_tmr(void *arg)
{
	webhook_send(arg);
}

static void webhook_done(const struct bt_http_result *res, void *arg)
{
	struct llm_tool_run *r = arg;
	bool retry = res->err == ECONNREFUSED || res->err == ETIMEDOUT ||
		     res->err == ECONNRESET || res->status == 429 ||
		     res->status >= 500;
	char why[700];

	r->http = mem_deref(r->http);
	if (!res->err && res->status >= 200 && res->status < 300) {
		json_t *o;

		(void)mbuf_write_u8(r->body, 0);
		o = json_loads((const char *)r->body->buf, JSON_DECODE_ANY,
			       NULL);
		if (!o)
			o = json_pack("{s:s}", "text",
				      (const char *)r->body->buf);
		report(r, 0, o, NULL);
		json_decref(o);
		return;
	}
	if (res->status)
		snprintf(why, sizeof(why), "the tool %s answered HTTP %ld: "
			 "%.300s", r->name, res->status, res->body);
	else
		snprintf(why, sizeof(why), "the tool %s: %s", r->name,
			 res->errmsg);
	if (retry && r->attempts <= r->retries) {
		uint32_t wait = RETRY_BASE_MS << (r->attempts - 1);
		if (res->retry_after_s && res->retry_after_s * 1000 > wait)
			wait = res->retry_after_s * 1000;
		tmr_start(&r->tmr, wait, retry_tmr, r);
		return;
	}
	report(r, EIO, NULL, why);
}

static void webhook_send(struct llm_tool_run *r)
{
	char hdr[2][300];
	const char *hdrs[3];
	struct bt_http_prm prm;
	int err;

	snprintf(hdr[0], sizeof(hdr[0]), "Content-Type: application/json");
	snprintf(hdr[1], sizeof(hdr[1]), "Idempotency-Key: %s", r->idem);
	hdrs[0] = hdr[0];
	hdrs[1] = hdr[1];
	hdrs[2] = NULL;
	memset(&prm, 0, sizeof(prm));
	prm.method = "POST";
	prm.url = r->url;
	prm.headers = hdrs;
	prm.body = r->req;
	prm.body_len = strlen(r->req);
	prm.timeout_ms = r->timeout_ms;
	r->body->end = r->body->pos = 0;
	++r->attempts;
	err = bt_http_start(&r->http, &prm, webhook_data, webhook_done, r);
	if (err) {
		char why[600];
		snprintf(why, sizeof(why), "the tool %s could not start: %s",
			 r->name, bt_errmsg());
		report(r, err, NULL, why);
	}
}

/*
 * "${NAME}" in a webhook's URL comes from the environment, so one agent
 * file serves a test server and production. -1: a variable is not set
 * (its name in var).
 */
static int expand_env(const char *in, char *out, size_t sz, char *var,
		      size_t vsz)
{
	size_t o = 0;

	for (const char *p = in; *p && o + 1 < sz; p++) {
		const char *e = p[0] == '$' && p[1] == '{' ? strchr(p, '}')
							    : NULL;
		char name[64];
		const char *v;

		if (!e || (size_t)(e - p - 2) >= sizeof(name)) {
			out[o++] = *p;
			continue;
		}
		memcpy(name, p + 2, (size_t)(e - p - 2));
		name[e - p - 2] = '\0';
		v = getenv(name);
		if (!v) {
			str_ncpy(var, name, vsz);
			out[o] = '\0';
			return -1;
		}
		o += (size_t)snprintf(out + o, sz - o, "%s", v);
		if (o >= sz)
			o = sz - 1;
		p = e;
	}
	out[o] = '\0';
	return 0;
}

static int webhook_start(struct llm_tool_run *r, const json_t *wh,
			 const struct llm_tool_prm *prm)
{
	const json_t *v;
	json_t *o, *args;
	char *js, var[64];

	if (expand_env(json_string_value(json_object_get(wh, "url")), r->url,
		       sizeof(r->url), var, sizeof(var)))
		return bt_err(EINVAL, "the tool %s's URL needs ${%s}, which "
			      "is not set", prm->name, var);
	v = json_object_get(wh, "timeout_ms");
	r->timeout_ms = v ? (uint32_t)json_integer_value(v)
			  : WEBHOOK_TIMEOUT_MS;
	v = json_object_get(wh, "retries");
	r->retries = v ? (unsigned)json_integer_value(v) : WEBHOOK_RETRIES;
	snprintf(r->idem, sizeof(r->idem), "%s:%s",
		 prm->ctx && prm->ctx->session_id ? prm->ctx->session_id : "",
		 prm->call_id ? prm->call_id : "");
	r->body = mbuf_alloc(512);
	args = json_loads(prm->args && prm->args[0] ? prm->args : "{}", 0,
			  NULL);
	if (!r->body || !args) {
		json_decref(args);
		return bt_err(EINVAL, "the arguments of %s are not JSON",
			      prm->name);
	}
	o = json_pack("{s:s,s:s,s:s,s:o}", "tool", prm->name, "call_id",
		      prm->call_id ? prm->call_id : "", "session_id",
		      prm->ctx && prm->ctx->session_id ? prm->ctx->session_id
						       : "",
		      "arguments", args);
	js = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!js)
		return ENOMEM;
	if (str_dup(&r->req, js)) {
		free(js);
		return ENOMEM;
	}
	free(js);
	webhook_send(r);
	return 0;
}

uint32_t llm_tool_left_ms(const struct llm_tool_run *r)
{
	uint64_t left;

	if (!r)
		return 0;
	/* a built-in on the pool (a database write): about a webhook's
	 * default time */
	if (r->job || !r->timeout_ms)
		return WEBHOOK_TIMEOUT_MS;
	left = r->timeout_ms;
	for (unsigned a = r->attempts ? r->attempts : 1; a <= r->retries; a++)
		left += ((uint64_t)RETRY_BASE_MS << (a - 1)) + r->timeout_ms;
	return left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
}

int llm_tool_start(struct llm_tool_run **rp, const struct llm_tool_prm *prm,
		   llm_tool_done_h *doneh, void *arg)
{
	struct llm_tool_run *r;
	const json_t *wh;
	const char *run;
	int err;

	if (!rp || !prm || !prm->def || !doneh)
		return EINVAL;
	r = mem_zalloc(sizeof(*r), run_destructor);
	if (!r)
		return ENOMEM;
	r->doneh = doneh;
	r->arg = arg;
	tmr_init(&r->tmr);
	str_ncpy(r->name, prm->name, sizeof(r->name));
	/* the handler may run before this returns: hand the run out first */
	*rp = r;
	wh = json_object_get(prm->def, "webhook");
	run = json_string_value(json_object_get(prm->def, "run"));
	if (wh) {
		err = webhook_start(r, wh, prm);
	}
	else {
		const struct bt_tool *t = bt_tool_find(run ? run : "");
		err = t ? builtin_start(r, t, prm)
			: bt_err(ENOENT, "no built-in tool \"%s\"",
				 run ? run : "");
	}
	if (err) {
		*rp = NULL;
		mem_deref(r);
	}
	return err;
}

/* ---- the agent file's tools ---- */

static __thread char tpath[128];

static int tfail(const char **pathp, size_t i, const char *key,
		 const char *fmt, const char *a, const char *b)
{
	if (key)
		snprintf(tpath, sizeof(tpath), "llm.tools.%zu.%s", i, key);
	else
		snprintf(tpath, sizeof(tpath), "llm.tools.%zu", i);
	*pathp = tpath;
	return bt_err(EINVAL, fmt, tpath, a ? a : "", b ? b : "");
}

int llm_tools_check(const json_t *tools, const char **pathp)
{
	static const char *const keys[] = {"name", "description",
		"parameters", "run", "webhook", "confirm", "to", NULL};
	size_t i;
	json_t *t;

	if (!tools)
		return 0;
	if (!json_is_array(tools) || json_array_size(tools) > 64) {
		snprintf(tpath, sizeof(tpath), "llm.tools");
		*pathp = tpath;
		return bt_err(EINVAL, "\"llm.tools\" must be a list of at "
			      "most 64 tools ({\"name\", \"description\", "
			      "\"parameters\", \"run\" or \"webhook\"})");
	}
	json_array_foreach(tools, i, t) {
		const char *name, *key, *run;
		const json_t *v, *wh;

		if (!json_is_object(t))
			return tfail(pathp, i, NULL, "\"%s\" must be an object "
				     "with \"name\" and \"run\" or "
				     "\"webhook\"%s%s", NULL, NULL);
		json_object_foreach(t, key, v) {
			bool ok = false;
			for (size_t k = 0; keys[k]; k++)
				ok = ok || !strcmp(keys[k], key);
			if (!ok)
				return tfail(pathp, i, key, "unknown field "
					     "\"%s\"; a tool has name, "
					     "description, parameters, run or "
					     "webhook, confirm, to (with run "
					     "transfer_call)%s%s", NULL,
					     NULL);
		}
		name = json_string_value(json_object_get(t, "name"));
		if (!name || !name[0] || strlen(name) > 64 ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
		    strlen(name))
			return tfail(pathp, i, "name", "\"%s\" must be 1 to 64 "
				     "letters, digits, '_' or '-' (the APIs "
				     "refuse other names)%s%s", NULL, NULL);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(name, json_string_value(json_object_get(
				json_array_get(tools, j), "name"))))
				return tfail(pathp, i, "name", "\"%s\": a "
					     "second tool named \"%s\"; names "
					     "must differ%s", name, NULL);
		v = json_object_get(t, "description");
		if (v && !json_is_string(v))
			return tfail(pathp, i, "description", "\"%s\" must be "
				     "a string telling the model when to use "
				     "the tool%s%s", NULL, NULL);
		v = json_object_get(t, "parameters");
		if (v && (!json_is_object(v) || !json_object_get(v, "type")))
			return tfail(pathp, i, "parameters", "\"%s\" must be "
				     "a JSON schema object, e.g. {\"type\": "
				     "\"object\", \"properties\": {...}}%s%s",
				     NULL, NULL);
		v = json_object_get(t, "confirm");
		if (v && !json_is_string(v))
			return tfail(pathp, i, "confirm", "\"%s\" must be the "
				     "sentence read back before the tool runs, "
				     "e.g. \"A table for {party}, is that "
				     "right?\"%s%s", NULL, NULL);
		run = json_string_value(json_object_get(t, "run"));
		wh = json_object_get(t, "webhook");
		if (!!run == !!wh)
			return tfail(pathp, i, NULL, "\"%s\" needs exactly one "
				     "of \"run\" (a built-in: end_call, "
				     "transfer_call, booking.save) and \"webhook\" ({\"url\": "
				     "...})%s%s", NULL, NULL);
		if (run && strcmp(run, "end_call") &&
		    strcmp(run, "flow.return") &&
		    strcmp(run, BT_TRANSFER_RUN) && !bt_tool_find(run))
			return tfail(pathp, i, "run", "\"%s\" is \"%s\", which "
				     "is not a built-in tool; use end_call, "
				     "transfer_call or booking.save%s", run,
				     NULL);
		if (run && !strcmp(run, BT_TRANSFER_RUN)) {
			int err = llm_transfer_check(t, i, pathp);
			if (err)
				return err;
		}
		else if (json_object_get(t, "to")) {
			return tfail(pathp, i, "to", "\"%s\" is for a tool "
				     "whose run is transfer_call; remove it%s%s",
				     NULL, NULL);
		}
		if (wh) {
			const char *url = json_string_value(json_object_get(
				wh, "url"));
			const json_t *to = json_object_get(wh, "timeout_ms");
			const json_t *re = json_object_get(wh, "retries");

			char full[512], var[64];

			if (url && expand_env(url, full, sizeof(full), var,
					      sizeof(var)))
				return tfail(pathp, i, "webhook.url", "\"%s\" "
					     "uses ${%s}, which is not set in "
					     "the environment; export it (e.g. "
					     "%s=http://127.0.0.1:8080)", var,
					     var);
			if (!url || (strncmp(full, "http://", 7) &&
				     strncmp(full, "https://", 8)))
				return tfail(pathp, i, "webhook.url", "\"%s\" "
					     "must be an http:// or https:// "
					     "URL%s%s", NULL, NULL);
			if (to && (!json_is_integer(to) ||
				   json_integer_value(to) < 1 ||
				   json_integer_value(to) > 60000))
				return tfail(pathp, i, "webhook.timeout_ms",
					     "\"%s\" must be 1 to 60000 "
					     "(ms)%s%s", NULL, NULL);
			if (re && (!json_is_integer(re) ||
				   json_integer_value(re) < 0 ||
				   json_integer_value(re) > 5))
				return tfail(pathp, i, "webhook.retries",
					     "\"%s\" must be 0 to 5%s%s", NULL,
					     NULL);
		}
	}
	return 0;
}
