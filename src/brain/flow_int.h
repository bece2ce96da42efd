/**
 * @file flow_int.h  What the flow's run time (flow.c) and its load-time
 *                   check (flow_check.c) share. Private to src/brain.
 */
#ifndef BT_BRAIN_FLOW_INT_H
#define BT_BRAIN_FLOW_INT_H

#include "banter/banter.h"

enum {
	REPLY_MAX = 2048,  /**< one reply's text; more is cut */
	TEXT_MAX = 1024,   /**< one rendered text */
	NORM_MAX = 512,    /**< one normalized transcript or phrase */
	PATH_LEN = 256,    /**< a dotted path in an error */
	FULL_LEN = PATH_LEN + 64, /**< a path with one more field */
	HOPS_MAX = 64,     /**< nodes passed in one reply (no loops: check) */
	NODES_MAX = 1000,  /**< nodes in a flow (bounds the loop check) */
	NAME_MAX_LEN = 64, /**< a slot or template name */
	NUMBER_MAX_DEF = 100, /**< a number answer's max unless set */
	GRAMMARS_MAX = 256, /**< question nodes: a recogniser's grammars
				 (GRAMMAR_MAX in src/stt/ps_int.h) */
};

#define DEF_REPROMPT "Sorry, could you repeat that?"
#define DEF_FALLBACK "Sorry, I'm having trouble understanding. " \
	"Please call again later. Goodbye."
#define DEF_IDLE "Are you still there?"
#define DEF_HANGUP "I'll hang up now. Goodbye."
#define DEF_TOOL_ERROR "Sorry, something went wrong on our side."

/**
 * Check the agent's "flow" section (the brain's checkh): on error EINVAL,
 * *pathp the field (a thread-local buffer) and bt_errmsg() what to do.
 */
int flow_check(const json_t *agent, const char **pathp);

#endif
