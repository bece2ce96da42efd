/**
 * @file flow_action.c  A flow node's tool: its arguments rendered from
 * the call, the result saved for the flow (save_as) and reported to the
 * session. On an event loop the tool runs on the worker pool and the walk
 * goes on when its result is back on the loop (action_back); without one
 * (the simulator) it runs inline.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "brain/flow_memory.h"
#include "brain/flow_st.h"
#include "core/worker.h"
#include "net/loop.h"

/* ---- a tool here and now, or on the worker pool ---- */

static json_t *build_args(const struct flow_st *st, const json_t *args)
{
	json_t *out = json_object();
	const char *key;
	json_t *v;

	if (!out)
		return NULL;
	json_object_foreach((json_t *)args, key, v) {
		const char *s = json_string_value(v), *lone;
		char buf[TEXT_MAX];
		size_t n;

		if (!s) {
			json_object_set(out, key, v);
			continue;
		}
		/* a lone "{party}" keeps its type: 3, not "3" */
		if (flow_tmpl_lone(s, &lone, &n)) {
			char name[PATH_LEN];
			const json_t *x;

			str_ncpy(name, lone, n + 1 < sizeof(name) ?
				 n + 1 : sizeof(name));
			x = flow_lookup(st, name);
			json_object_set_new(out, key, x ? json_deep_copy(x) :
					    json_null());
			continue;
		}
		flow_render(st, s, false, buf, sizeof(buf));
		json_object_set_new(out, key, json_string(buf));
	}
	return out;
}

/* The tool's result: saved for the flow; the event reaches sink->toolh. */
int flow_action_result(struct flow_st *st, const json_t *action,
		       json_t *args, json_t *result, int err,
		       const char *errmsg)
{
	const char *name = bt_json_str_or(action, "tool", "");
	const char *save_as = bt_json_str_or(action, "save_as", NULL);
	char *args_s = NULL, *res_s = NULL;

	if (err) {
		char why[512];
		json_t *e;

		str_ncpy(why, errmsg && *errmsg ? errmsg : strerror(err),
			 sizeof(why));
		flow_memory_action(st->acts, name, NULL, err, why);
		json_decref(result);
		result = NULL;
		e = json_pack("{s:s, s:i}", "error", why, "errno", err);
		res_s = e ? json_dumps(e, JSON_COMPACT) : NULL;
		json_decref(e);
	}
	else {
		res_s = json_dumps(result ? result : json_null(),
				   JSON_COMPACT | JSON_ENCODE_ANY);
		flow_memory_action(st->acts, name, result, 0, NULL);
		if (save_as)
			json_object_set(st->vars, save_as,
					result ? result : json_null());
	}

	if (st->sink && st->sink->toolh) {
		args_s = json_dumps(args, JSON_COMPACT);
		st->sink->toolh(name, args_s ? args_s : "{}",
				res_s ? res_s : "null", err, st->sink->arg);
	}

	free(args_s);
	free(res_s);
	json_decref(args);
	json_decref(result);
	return err;
}

/* Call the node's tool here and now (no event loop: the simulator). */
int flow_run_action(struct flow_st *st, const json_t *action)
{
	const char *name = bt_json_str_or(action, "tool", "");
	const struct bt_tool *tool = bt_tool_find(name);
	json_t *args, *result = NULL;
	int err;

	args = build_args(st, json_object_get(action, "args"));
	if (!args)
		return bt_err(ENOMEM, "out of memory calling tool %s", name);
	bt_err_clear();
	if (!tool)
		err = bt_err(ENOENT, "tool \"%s\" is not registered", name);
	else
		err = tool->callh(args, &st->ctx, &result);
	return flow_action_result(st, action, args, result, err, bt_errmsg());
}

/* ---- tools on the worker pool ---- */

static void action_work(struct bt_job *job)
{
	struct action_job *aj = (struct action_job *)job;

	bt_err_clear();
	aj->err = aj->tool->callh(aj->args, &aj->ctx, &aj->result);
	if (aj->err)
		str_ncpy(aj->errmsg, bt_errmsg(), sizeof(aj->errmsg));
}

static void action_free(struct bt_job *job)
{
	struct action_job *aj = (struct action_job *)job;

	json_decref(aj->args);
	json_decref(aj->result);
	mem_deref(aj);
}

/* Back on the session's loop, whether the tool ran or not. */
static void action_back(struct bt_job *job)
{
	struct action_job *aj = (struct action_job *)job;
	struct flow_st *st = aj->st;
	json_t *args = aj->args, *result = aj->result;

	if (!st)
		return;
	st->job = NULL;
	aj->args = aj->result = NULL;
	if (!atomic_load(&job->ran)) {
		/* cancelled before it started: it never happened, and the
		 * flow waits at the question that led to it again */
		json_decref(args);
		json_decref(result);
		st->cur = st->before;
		st->curnode = st->beforenode;
	}
	else {
		int err = flow_action_result(st, aj->action, args, result,
					     aj->err, aj->errmsg);
		flow_walk(st, aj->node, err);
	}
	bt_job_release(job);
	if (!st->job)
		flow_deliver(st);
}

/* Start the node's tool on the pool; false: run it inline instead. */
bool flow_action_start(struct flow_st *st, const json_t *action,
		       const char *node)
{
	struct bt_loop *loop = bt_loop_current();
	const struct bt_tool *tool;
	struct action_job *aj;

	if (!loop)
		return false;
	tool = bt_tool_find(bt_json_str_or(action, "tool", ""));
	if (!tool)
		return false;  /* the inline path reports it */
	aj = mem_zalloc(sizeof(*aj), NULL);
	if (!aj)
		return false;
	aj->args = build_args(st, json_object_get(action, "args"));
	if (!aj->args) {
		mem_deref(aj);
		return false;
	}
	aj->st = st;
	aj->tool = tool;
	aj->action = action;
	aj->node = node;
	str_ncpy(aj->db_path, st->ctx.db_path ? st->ctx.db_path : "",
		 sizeof(aj->db_path));
	str_ncpy(aj->session_id, st->ctx.session_id ? st->ctx.session_id :
		 "", sizeof(aj->session_id));
	aj->ctx.db_path = aj->db_path;
	aj->ctx.session_id = aj->session_id;
	aj->job.work = action_work;
	aj->job.freeh = action_free;
	aj->job.loop = loop;
	aj->job.doneh = action_back;
	aj->job.report_cancelled = true;
	atomic_init(&aj->job.refs, 1);
	if (bt_worker_submit(&aj->job)) {
		json_decref(aj->args);
		mem_deref(aj);
		return false;
	}
	st->job = aj;
	return true;
}
