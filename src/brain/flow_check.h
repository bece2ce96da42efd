/**
 * @file flow_check.h  What the flow's load-time check shares among its
 *                     files: flow_check.c (the walk over the flow),
 *                     flow_check_util.c (one value checked, and the
 *                     message) and flow_check_tools.c (a node's action).
 *                     Private to src/brain.
 *
 * Each check returns 0, or fails (fc_fail) with EINVAL, the field's path
 * in *c->pathp and bt_errmsg() saying what to do.
 */
#ifndef BT_BRAIN_FLOW_CHECK_H
#define BT_BRAIN_FLOW_CHECK_H

#include "banter/banter.h"

enum {
	SHOWN_MAX = 40,             /**< a quoted value in a message */
	SHOWN_LEN = SHOWN_MAX + 4,  /**< ... with "..." */
};

/* What every check helper needs. */
struct chk {
	const json_t *flow;  /* its settings, for a node's own ones */
	const json_t *nodes;
	json_t *names; /* declared template names: slots and saved results */
	const char **pathp;
	bool heard;    /* intents' phrases go into the embedded
			  recogniser's grammars: check its dictionary */
};

/* flow_check_util.c */
/* The check fails: EINVAL, the message for bt_errmsg(), path in *pathp
 * (a thread-local buffer; pathp may be NULL). */
int fc_fail(const char **pathp, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* bt_json_shown and bt_json_brief (banter/agent.h) quote values: bufs
 * of SHOWN_LEN */
/* Letters, digits, _ or -, at least one. */
bool fc_valid_id(const char *s);
/* path + "." + key, cut to fit; an odd key quoted (bt_json_path_add) */
void fc_subpath(char *buf, size_t sz, const char *path, const char *key);
/* obj's fields are among `valid` (" a b c "). */
int fc_keys_ok(const struct chk *c, const json_t *obj, const char *path,
	       const char *valid);
int fc_want_object(const struct chk *c, const json_t *v, const char *path);
int fc_want_string(const struct chk *c, const json_t *v, const char *path,
		   const char *example);
int fc_want_int(const struct chk *c, const json_t *v, const char *path,
		json_int_t min, json_int_t max, json_int_t example);
/* A number from 0 to 1. */
int fc_want_conf(const struct chk *c, const json_t *v, const char *path);
/* An edge: a string naming an existing node. */
int fc_want_node(const struct chk *c, const json_t *v, const char *path);
/* A text (a template) whose placeholders render and name what some node
 * fills; `arg`: a tool's argument, where a lone placeholder keeps its
 * value's type. */
int fc_want_text(const struct chk *c, const json_t *v, const char *path,
		 const char *example, bool arg);
/* obj's `key`, if there: a text, or an edge. */
int fc_check_opt_text(const struct chk *c, const json_t *obj,
		      const char *key, const char *path,
		      const char *example);
int fc_check_opt_node(const struct chk *c, const json_t *obj,
		      const char *key, const char *path);

/* flow_check_tools.c */
/* A node's action (at path): its tool, args and on_error; its shape and
 * save_as are checked before (declare_node() in flow_check.c). */
int fc_check_action(const struct chk *c, const json_t *a, const char *path);
/* The arguments node id's tool needs that name a slot or a saved result
 * are set on every way to the node. */
int fc_check_args_set(const struct chk *c, const json_t *flow,
		      const char *id, const json_t *n);

/* flow_check_intents.c */
/* Whether the intents' phrases reach the embedded recogniser's grammars
 * (a question with a slot type, pocketsphinx among the recognisers). */
bool fc_phrases_heard(const json_t *agent, const json_t *nodes);
/* flow.intents: each one's name, phrases, keywords, say and next. */
int fc_check_intents(const struct chk *c, const json_t *intents);

/* flow_check_xfer.c */
/* A transfer_call action (at path): its target, on_error, no save_as. */
int fc_check_transfer(const struct chk *c, const json_t *a,
		      const char *path);
/* Its node (at path) ends in the transfer: no expect, next or end. */
int fc_check_transfer_node(const struct chk *c, const json_t *n,
			   const char *path);

#endif
