/**
 * @file llm_int.h  The LLM brain's parts: llm.c (the brain: responses,
 *                  rounds of tool calls, fallbacks, routing), llm_wire.c
 *                  (each API's request body and streamed answer) and
 *                  llm_tools.c (running tools: built-ins, webhooks).
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
/* The agent file's "tools": names, parameters, how each runs. */
int llm_tools_check(const json_t *tools, const char **pathp);

#endif
