/**
 * @file brain.h  The brain: what the agent says next.
 *
 * Providers: "flow" (the conversation-flow engine, offline); LLMs over HTTP
 * later, behind the same interface. All calls come from the session's
 * thread; a provider may answer later (asynchronously) but must then call
 * the sink from the session's thread too.
 */
#ifndef BANTER_BRAIN_H
#define BANTER_BRAIN_H

#include "json.h"
#include <re.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "stt.h"

enum bt_brain_input_type {
	BT_BRAIN_START = 0, /**< the call begins: greet */
	BT_BRAIN_USER,      /**< the user finished a turn */
	BT_BRAIN_IDLE,      /**< the user said nothing for the idle time */
	BT_BRAIN_TRANSFER,  /**< the transfer a reply asked for (done's
				 transfer_to) did not happen: text says why
				 ("failed: 486 Busy Here"); the call goes on */
};

struct bt_brain_input {
	enum bt_brain_input_type type;
	const char *text;       /**< USER: transcript ("" if nothing heard) */
	float confidence;       /**< USER: STT confidence 0..1 */
	unsigned idle_count;    /**< IDLE: 1 for the first check, 2, ... */
	const char *history_json; /**< the conversation so far, as
				       bt_session_history() gives it */
	const char *instructions; /**< a transport's instructions, or NULL */
	const char *tools_json;   /**< a transport's function tools, or NULL
				       (bt_session_set_tools) */
	const char *caller_id;    /**< who calls, or NULL: the key of the
				       brain's memory across calls */
};

/** Called for each piece of reply text, in order (a sentence or a delta). */
typedef void (bt_brain_text_h)(const char *text, void *arg);

/** The end of a reply. */
struct bt_brain_done {
	bool end_call;       /**< hang up after the reply has been played */
	const char *grammar; /**< STT grammar for the next user turn, NULL=open */
	const char *model;   /**< which model answered ("openai:gpt-4o-mini"),
				  for the trace; NULL for none */
	bool handback;       /**< an LLM inside a flow gives the conversation
				  back to it (its return_to_flow tool) */
	const char *transfer_to; /**< transfer the caller there (a sip:,
				      sips: or tel: URI or a number) after
				      the reply has played; NULL: none */
};
typedef void (bt_brain_done_h)(const struct bt_brain_done *done, void *arg);

/**
 * A tool event (call + result), reported for the trace. result NULL with
 * err EINPROGRESS: the call ends while the tool still runs; the brain
 * keeps its result (the LLM brain: in the caller's memory record).
 */
typedef void (bt_brain_tool_h)(const char *name, const char *args_json,
			       const char *result_json, int err, void *arg);

/**
 * The text that follows (until the next call) must play through without
 * interruption (a legal notice) or may be interrupted again.
 */
typedef void (bt_brain_segment_h)(bool uninterruptible, void *arg);

/**
 * Something failed that the brain recovered from (a provider down, a
 * fallback taken): what, and what took over. For the trace and the
 * transport's error events; the response goes on.
 */
typedef void (bt_brain_error_h)(const char *msg, void *arg);

/**
 * The model called one of the transport's function tools (in_tools_json):
 * the transport runs it; its output comes back as a history item, and the
 * next response continues from it. Dropped for a cancelled response.
 */
typedef void (bt_brain_call_h)(const char *call_id, const char *name,
			       const char *args_json, void *arg);

/**
 * A filler ("One moment."): a short line said while the answer is slow,
 * one of the lines the brain's linesh named so the voice has it rendered
 * already. The session says it at most once per reply and only before the
 * reply's own text; otherwise it is dropped.
 */
typedef void (bt_brain_filler_h)(const char *text, void *arg);

/**
 * Where a response goes. A brain may answer later (an LLM over HTTP): it
 * copies the sink and keeps sink->arg, a libre mem object, with mem_ref()
 * until it has called doneh or been cancelled, and calls the handlers on
 * the session's thread. Whatever it sends for a response that was
 * cancelled is dropped, except a tool's result, which always goes into
 * the history.
 */
struct bt_brain_sink {
	bt_brain_text_h *texth;
	bt_brain_done_h *doneh;
	bt_brain_tool_h *toolh;       /**< may be NULL */
	void *arg;
	bt_brain_segment_h *segmenth; /**< may be NULL */
	bt_brain_error_h *errorh;     /**< may be NULL */
	bt_brain_call_h *callh;       /**< may be NULL */
	bt_brain_filler_h *fillerh;   /**< may be NULL: a brain then says
					   its filler with texth */
};

/** Context the brain's tools get. */
struct bt_brain_ctx {
	const char *db_path;    /**< SQLite file for built-in tools */
	const char *session_id;
	bool memory_read_only;  /**< a brain inside another (a flow's LLM
				     hand-off) reads the caller's memory but
				     leaves the call's record to the outer
				     one */
};

struct bt_brain_st; /* instance; first member: const struct bt_brain * */

/**
 * Validate the provider's part of the agent file (the whole agent object
 * is passed). On error return EINVAL and set *pathp to a static or
 * json-owned string naming the offending field as a dotted path
 * ("flow.nodes.confirm.expect.type") and bt_errmsg() to what is wrong and
 * how to fix it; the loader adds file, line and column.
 */
typedef int (bt_brain_check_h)(const json_t *agent, const char **pathp);

/** The STT grammars this agent needs (compiled before the call). */
typedef int (bt_brain_grammars_h)(const json_t *agent,
				  struct bt_stt_grammar **gp, size_t *np);

typedef int (bt_brain_alloc_h)(struct bt_brain_st **stp, const json_t *agent,
			       const struct bt_brain_ctx *ctx);
typedef int (bt_brain_respond_h)(struct bt_brain_st *st,
				 const struct bt_brain_input *in,
				 const struct bt_brain_sink *sink);
/**
 * The response whose sink has this arg is cancelled (barge-in, a turn
 * taken too soon, the call's end): stop working on it. Session's thread.
 * A tool already running still reports its result.
 */
typedef void (bt_brain_cancel_h)(struct bt_brain_st *st, void *sink_arg);

/**
 * The fixed lines this agent's brain may say at short notice (fillers):
 * up to max of them into lines (strings owned by agent). The session
 * renders them when it is set up, so saying one later costs no synthesis.
 */
typedef size_t (bt_brain_lines_h)(const json_t *agent, const char **lines,
				  size_t max);

/**
 * Who calls is known (at the session's set-up) or changed (a Realtime
 * client names the caller in session.update): a brain with memory across
 * calls starts reading it now, off the loop, so that the first response
 * finds it ready. Session's thread; the caller id may be "".
 */
typedef void (bt_brain_caller_h)(struct bt_brain_st *st,
				 const char *caller_id);

struct bt_brain {
	struct le le;
	const char *name;
	/** the agent file's top-level section this brain reads ("flow",
	 *  "llm"); NULL: the provider's name */
	const char *section;
	/** keys the agent's "brain" object may hold besides "provider"
	 *  (NULL-ended; NULL: none); the provider's checkh checks them */
	const char *const *brain_keys;
	bt_brain_check_h *checkh;
	/** *gp: one mem block holding the array, the phrase lists and all
	 *  strings; the caller frees it with a single mem_deref(*gp). */
	bt_brain_grammars_h *grammarsh;
	bt_brain_alloc_h *alloch;
	bt_brain_respond_h *respondh;
	bt_brain_cancel_h *cancelh;   /**< may be NULL (a brain that answers
					   inside respondh) */
	bt_brain_lines_h *linesh;     /**< may be NULL: no fillers */
	bt_brain_caller_h *callerh;   /**< may be NULL: the caller id only
					   comes with each input */
};

void bt_brain_register(struct bt_brain *b);
void bt_brain_unregister(struct bt_brain *b);
const struct bt_brain *bt_brain_find(const char *name);

int bt_brain_flow_init(void);
/** The LLM brains "openai" (any OpenAI-compatible chat completions
 *  server) and "anthropic" (the Messages API). */
int bt_brain_llm_init(void);
/** Responses of ended calls whose tools still run on this thread (their
 *  results are still to be kept): a driver about to stop its loop waits
 *  for them. */
unsigned bt_brain_llm_late(void);

/* ---- tools (function calling) ---- */
typedef int (bt_tool_call_h)(const json_t *args, const struct bt_brain_ctx *ctx,
			     json_t **resultp);

/** The kind of value a tool's argument takes. */
enum bt_tool_arg_type {
	BT_TOOL_ARG_ANY = 0,
	BT_TOOL_ARG_INT,   /**< a whole number from min to max */
	BT_TOOL_ARG_TEXT,  /**< a non-empty string */
	BT_TOOL_ARG_BOOL,  /**< true or false */
};

/** One argument of a tool: what the loader checks a flow's args against. */
struct bt_tool_arg {
	const char *name;            /**< NULL ends the list */
	enum bt_tool_arg_type type;
	bool optional;
	int64_t min, max;            /**< BT_TOOL_ARG_INT: the range */
};

struct bt_tool {
	struct le le;
	const char *name;  /**< e.g. "booking.save" */
	bt_tool_call_h *callh;
	/** the arguments it takes (others are refused), ended by one with a
	 *  NULL name; NULL: not declared, a flow's args are not checked */
	const struct bt_tool_arg *args;
	/** the fields of its result, each a plain value, NULL-ended: what a
	 *  flow's texts may say ({booking.booking_id}); NULL: not declared */
	const char *const *result_keys;
};
void bt_tool_register(struct bt_tool *t);
void bt_tool_unregister(struct bt_tool *t);
const struct bt_tool *bt_tool_find(const char *name);

/** Built-in "booking.save": a row in the SQLite file ctx->db_path. */
int bt_tool_booking_init(void);

#endif
