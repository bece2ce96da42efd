/**
 * @file flow_int.h  What the flow's run time (flow.c and the files
 *                   flow_st.h names) and its load-time check
 *                   (flow_check.c, flow_check_util.c, flow_check_tools.c)
 *                   share. Private to src/brain.
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
#define DEF_TRANSFER_ERROR "Sorry, I couldn't connect you right now."

/*
 * Templates (every text, and tool arguments): "{name}" is a placeholder,
 * a slot ({party}) or a path into a saved result ({booking.booking_id});
 * "{{" and "}}" are braces. The call renders them and the loader checks
 * them through the same scanner, so the two cannot disagree.
 */
enum tmpl_kind {
	TMPL_TEXT, /**< text to copy as it is */
	TMPL_NAME, /**< a placeholder: s, n is the name inside the braces */
	TMPL_BAD,  /**< a "{" not closed before the next brace, or a "}"
		       that none opened: said as it is; the loader refuses
		       it */
};

struct tmpl_part {
	enum tmpl_kind kind;
	const char *s; /**< in the template */
	size_t n;
};

/** The next piece of the template at *pp, moving *pp past it; false at
 *  its end. */
bool flow_tmpl_next(const char **pp, struct tmpl_part *part);

/** True if the template is one placeholder and nothing else ("{party}":
 *  a tool argument keeps the value's type); *namep, *np: its name. */
bool flow_tmpl_lone(const char *tmpl, const char **namep, size_t *np);

/* flow_grammar.c */
/** A node's expect.type (enum bt_slot_type), -1 without expect. */
int flow_expect_type(const json_t *node);
/** The brain's grammarsh: one grammar per question node but text ones. */
int flow_grammars(const json_t *agent, struct bt_stt_grammar **gp,
		  size_t *np);

/**
 * Check the agent's "flow" section (the brain's checkh): on error EINVAL,
 * *pathp the field (a thread-local buffer) and bt_errmsg() what to do.
 */
int flow_check(const json_t *agent, const char **pathp);

#endif
