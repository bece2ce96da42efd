/**
 * @file llm_int.h  The LLM brain's parts: llm.c (the brain: responses,
 *                  set-up), llm_stream.c (a round's request, its stream,
 *                  retries and fallbacks), llm_route.c (the
 *                  router's rules, fillers), llm_round.c
 *                  (a round's tool calls), llm_tools.c (running a tool:
 *                  built-ins, webhooks), llm_wire.c (each API's request
 *                  body and streamed answer), llm_history.c (the history
 *                  as messages), llm_memory.c (memory across calls) and
 *                  llm_check.c (the agent file's LLM parts).
 *
 * Messages are kept in one neutral form and turned into each API's shape
 * only when a request is written:
 *   {"role":"user","content":"..."}
 *   {"role":"assistant","content":"...","interrupted":true,
 *    "tool_calls":[{"id","name","arguments"(a JSON string)}]}
 *   {"role":"tool","tool_call_id":"...","name":"...","content":"{...}"}
 */
#ifndef BT_BRAIN_LLM_INT_H
#define BT_BRAIN_LLM_INT_H

#include <re.h>
#include "banter/banter.h"

enum llm_wire {
	WIRE_OPENAI = 0,   /* POST {base}/chat/completions */
	WIRE_ANTHROPIC,    /* POST {base}/v1/messages */
};

/* One model to ask: the agent's, the router's larger one, a fallback. */
struct llm_target {
	enum llm_wire wire;
	char provider[16];   /* "openai" | "anthropic" */
	char model[128];
	char url[512];       /* the endpoint */
	char key[256];       /* from the environment; "" for none */
	char say[512];       /* a fallback that only speaks this */
};

/* What a request needs besides the messages. */
struct llm_req {
	const struct llm_target *t;
	const char *system;   /* the agent's prompt + instructions + memory */
	const json_t *tools;  /* the agent's tool list (neutral), or NULL */
	unsigned max_tokens;
	double temperature;   /* < 0: not sent */
};

/* A stream's parser hands these on. */
struct llm_stream_h {
	void (*texth)(const char *text, void *arg);
	/* a tool call's pieces: index, and what is new of id / name / args */
	void (*toolh)(unsigned index, const char *id, const char *name,
		      const char *args, void *arg);
	/* the model ended: reason "stop" | "tool_calls" | "length" */
	void (*finishh)(const char *reason, void *arg);
	/* the stream says the request failed (an "error" event) */
	void (*errorh)(const char *msg, void *arg);
	void *arg;
};

/* llm_wire.c */
int llm_wire_body(const struct llm_req *rq, const json_t *msgs, char **bodyp);
/* The HTTP headers for a target: n strings, NULL-ended, in buf. */
void llm_wire_headers(const struct llm_target *t, char hdr[4][300],
		      const char *out[5]);
/* One SSE event of the target's stream. 0, or EPROTO: malformed. */
int llm_wire_event(enum llm_wire w, const char *event, const char *data,
		   const struct llm_stream_h *h, bool *endp);
/* A provider's error body, shortened to its message (into buf). */
void llm_wire_errmsg(const char *body, char *buf, size_t sz);

/* llm_history.c: the session's history (bt_session_history) as neutral
 * messages, the turn being answered last, trimmed to about budget tokens */
json_t *llm_history_msgs(const char *history_json, const char *user,
			 unsigned budget);

/* llm_memory.c: summarise this call for the caller's next one (on the
 * worker pool; inline without an event loop) */
void llm_memory_write(const char *db, const char *caller,
		      const char *history_json, const json_t *facts);
/* The extractive summary: the caller's last words, the tools' results. */
void llm_memory_extract(const char *history_json, const json_t *facts,
			char *buf, size_t sz);
/* Store a summary (the pool on a loop; inline without one). */
void llm_memory_store(const char *db, const char *caller,
		      const char *summary);

/* llm_summary.c: the summary written by the model (t), at the call's end.
 * msgs: the call as neutral messages, or NULL: the history's. extract:
 * the extractive summary to fall back to, or NULL: the one of history and
 * facts (llm_memory_extract).
 * The request outlives the brain: it belongs to this thread's list of
 * pending summaries; on any failure the extractive summary is stored and
 * the log says why. */
void llm_summary_start(const struct llm_target *t, const char *db,
		       const char *caller, const char *history_json,
		       const json_t *msgs, const json_t *facts,
		       const char *extract, uint32_t timeout_ms);
/* Wait until every loop has run what was queued on it before this call
 * (sessions freed just now have then handed over their records), at
 * most bound_ms. On a program's main thread while loop threads run. */
void llm_loops_sync(uint32_t bound_ms);
/* ts = now + ms on CLOCK_REALTIME, for pthread_cond_timedwait */
struct timespec;
void llm_deadline(struct timespec *ts, uint32_t ms);

/* llm_tools.c */
struct llm_tool_run;
/* Called on the session's thread with the tool's result (a JSON text). */
typedef void (llm_tool_done_h)(int err, const char *result, void *arg);
struct llm_tool_prm {
	const json_t *def;        /* the tool's agent-file object */
	const char *name;
	const char *args;         /* the model's arguments (JSON text) */
	const char *call_id;
	const struct bt_brain_ctx *ctx;
};
int llm_tool_start(struct llm_tool_run **rp, const struct llm_tool_prm *prm,
		   llm_tool_done_h *doneh, void *arg);
/* At most how long the run may still take: its attempt under way and the
 * retries left, each with its back-off (a Retry-After longer than the
 * back-off is not counted). */
uint32_t llm_tool_left_ms(const struct llm_tool_run *r);
/* The agent file's "tools": names, parameters, how each runs. */
int llm_tools_check(const json_t *tools, const char **pathp);

/* ---- llm.c and llm_round.c: the brain's state, one response ---- */

#define MAX_ROUNDS 4
#define MAX_CALLS 16
#define FIRST_TOKEN_MS 5000
#define TIMEOUT_MS 30000
#define HISTORY_TOKENS 6000
#define FILLER_MS 600
#define TOOL_FILLER_MS 1500
#define RETRY_AFTER_MAX_S 2
#define MAX_CHAIN 4
#define SUMMARY_TIMEOUT_MS 8000
#define SUMMARY_HISTORY_TOKENS 4000  /* the history a summary is shown */
#define MEMORY_WAIT_MS 300
#define DEF_FILLER "One moment."
#define DEF_TOOL_FILLER "One moment, let me check that."
#define DEF_APOLOGY "Sorry, I'm having trouble answering right now. " \
	"Could you say that again?"

struct resp;

struct call {
	struct resp *r;
	char id[72];
	char name[72];
	struct mbuf *args;
	const json_t *def;       /* the agent's tool, NULL if unknown */
	struct llm_tool_run *run;
	char *result;
	bool held;               /* waits for the caller's yes */
	bool client;             /* the transport's tool: it runs it */
};

struct llm_st {
	const struct bt_brain *brain;  /* first: the provider */
	struct bt_http *warm;          /* the connection opened early */
	json_t *agent;
	const json_t *llm;             /* the agent's "llm" section */
	const json_t *tools;
	struct llm_target main, big;
	bool has_big;
	struct llm_target chain[MAX_CHAIN];
	size_t n_chain;
	const json_t *route_words;
	const json_t *route_tools;     /* tools the larger model goes on from */
	unsigned route_min_words;
	const char *route_filler;
	unsigned max_tokens, history_tokens;
	double temperature;
	uint32_t first_token_ms, timeout_ms, filler_ms, tool_filler_ms;
	const char *filler_say, *tool_filler_say;
	const char *greeting, *idle_say, *hangup_say;
	unsigned idle_hangup;
	struct bt_brain_ctx ctx;
	char db_path[512], session_id[64];
	struct list resps;
	json_t *ran;                   /* call key -> result: at most once */
	struct call held;              /* a tool call waiting for a yes */
	bool has_held;
	/* memory across calls, by caller id */
	bool memory_on;
	unsigned memory_days, memory_max;
	bool summary_by_model;         /* else extractive */
	bool memory_read_only;         /* a flow's hand-off: no record */
	struct llm_target summary_t;
	uint32_t summary_timeout_ms;
	char caller[128];
	bool recalled;
	char memory[2048];
	struct memory_read *mread;     /* the read on the pool, or NULL */
	uint32_t memory_wait_ms;       /* how long a response waits for it */
	char *last_history;            /* the newest history seen */
	json_t *last_msgs;             /* the messages of the newest response
					  that finished, its rounds and last
					  words included (for the summary) */
	json_t *facts;                 /* this call's tool results, for the
					  summary */
	/* a flow's hand-off: the flow's record of the whole call, which
	 * this brain writes as the call's one record (llm_record_flow) */
	bool flow_rec;
	char *flow_history, *flow_extract;
	char flow_caller[128];
	/* the last transfer asked for: its outcome, if it fails, goes to
	 * the model as this call's result (llm_transfer.c) */
	char xfer_name[72];
	char xfer_args[300];
};

struct resp {
	struct le le;                  /* in st->resps; once its brain is
					  gone, in this thread's late ones */
	struct llm_st *st;             /* NULL once the brain is gone */
	struct bt_brain_sink sink;     /* sink.arg held with mem_ref */
	bool cancelled, finished;
	json_t *base;                  /* the history, as messages */
	json_t *local;                 /* this response's rounds */
	const char *system;
	char *system_buf;
	const struct llm_target *t;
	size_t chain_pos;
	bool retried;
	struct bt_http *http;
	struct bt_sse *sse;
	struct mbuf *text;             /* this round's text */
	bool said;                     /* text went to the caller */
	bool got_first;                /* a token of this request came */
	bool stream_end;
	char finish[16];
	char serr[400];                /* an error event in the stream */
	struct call calls[MAX_CALLS];
	unsigned n_calls, pending, round;
	struct tmr tmr_first, tmr_filler, tmr_retry;
	bool filled;
	bool end_call;
	bool restarted;                /* said "let me start again" */
	bool handback;                 /* return_to_flow was called */
	struct llm_late *late;         /* its call ended while a tool ran
					  (llm_late.c) */
	char transfer_to[256];         /* transfer_call: after the reply */
	bool starting;                 /* starting calls: a tool that ends
					  at once (inline) must not go on
					  before the others have started */
	json_t *tools;                 /* the agent's and the transport's */
	/* waiting for the caller's memory (st->mread): what it goes on
	 * with once the read is back or tmr_mem fires */
	bool mem_wait;
	struct tmr tmr_mem;
	enum bt_brain_input_type in_type;
	char *in_text, *in_sys;
};

/* llm_memory.c */
/* Read the caller's memory into st->memory (once per caller id): on the
 * worker pool (st->mread until it is back), inline without a loop. */
void llm_memory_recall(struct llm_st *st, const char *caller);
/* Forget a read still on the pool (the brain goes, the caller changed). */
void llm_memory_drop(struct llm_st *st);
/* The read is back: the responses waiting for it go on. */
void llm_memory_ready(struct llm_st *st);
/* tmr_mem: a response waited memory.wait_ms; it goes on without. */
void llm_memory_late(void *arg);
/* The response's request (or what else its input asks for), its system
 * prompt with the caller's memory as far as it has been read. */
void llm_resp_go(struct resp *r);
/* A response is done: keep its messages for the call's summary. */
void llm_memory_note(const struct resp *r);

/* llm.c */
void llm_call_reset(struct call *c);
/* Text to the caller (dropped for a cancelled response). */
void llm_say(struct resp *r, const char *text);
/* A recovered failure, for the trace (the sink's errorh). */
void llm_report(struct resp *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const json_t *llm_tool_def(const json_t *tools, const char *name);
/* Frees the response once it is over and no tool of it runs. */
bool llm_resp_free_if_idle(struct resp *r);
/* The next request of the response (its base + local messages). */
void llm_resp_request(struct resp *r);
/* The response ends: doneh, unless cancelled. */
void llm_resp_done(struct resp *r);

/* llm_route.c */
/* A filler (once a response), for the session to say before the reply. */
void llm_filler(struct resp *r, const char *text);
/* The router's keyword and length rules: this turn to the larger model. */
bool llm_route_big(const struct llm_st *st, const char *text);
/* After a round's tools: a call of a router tool moves the response to
 * the larger model. */
void llm_route_tools(struct resp *r);
/* The agent's fillers, for the session to render ahead (bt_brain's
 * linesh). */
size_t llm_lines(const json_t *agent, const char **lines, size_t max);

/* llm_late.c */
/* The brain goes: the call's memory record (the model's summary or the
 * extractive one, as llm.memory says; a flow's hand-off: the flow's
 * record, if it gave one) is written now, or, while tools of its
 * responses run, when the last of them ends: those responses are kept
 * until then, cut off from the session (whose trace hears of each such
 * tool now). Takes st's history, messages and facts. */
void llm_record_end(struct llm_st *st);
/* A flow (ctx.memory_read_only) gives its hand-off brain bst the call's
 * record: the caller, the newest history the flow saw and the flow's
 * extractive summary (its slots, tools and what was said during the
 * hand-off). The brain then writes it as it goes (llm_record_end): the
 * model's summary of the whole call if its llm.memory asks for one, with
 * this extractive one as the fallback; else this one. */
void llm_record_flow(struct bt_brain_st *bst, const char *caller,
		     const char *history_json, const char *extract);
/* A tool of such a response ended: into the memory record, the log. */
void llm_late_result(struct resp *r, struct call *c, const char *result);
/* Such a response is freed (its destructor). */
void llm_late_gone(struct resp *r);

/* llm_transfer.c */
/* A call of a tool whose run is transfer_call: its target checked against
 * the agent file's, the result at once, the transfer after the reply. */
void llm_transfer_call(struct resp *r, struct call *c, const char *args);
/* The transfer failed (BT_BRAIN_TRANSFER, why in text): the model hears
 * it as the call's result and answers the caller. */
void llm_transfer_failed(struct resp *r, const char *text);
/* The tool as the model sees it: a list of targets becomes an enum. */
json_t *llm_transfer_def(const json_t *def);
/* The agent file's "to" of tool i (a transfer_call): a target or a list
 * of them (transfer.h). */
int llm_transfer_check(const json_t *def, size_t i, const char **pathp);

/* llm_round.c */
/* The call's arguments as a JSON text ("{}" for none). */
const char *llm_call_args(struct call *c);
/* The round's stream is over: run what it called, or end. */
void llm_run_tools(struct resp *r);
/* Every call of the round has its result: the next round, or the end. */
void llm_after_tools(struct resp *r);
/* The caller's answer to a read-back: run the held call or not. */
void llm_answer_held(struct llm_st *st, struct resp *r, const char *text);

#endif
