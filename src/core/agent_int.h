/**
 * @file agent_int.h  Agent files: what loading (agent.c) and the checks of
 *                    their sections (agent_check.c) share.
 *
 * Private to libbanter.
 */
#ifndef BT_CORE_AGENT_INT_H
#define BT_CORE_AGENT_INT_H

#include <jansson.h>

enum {
	SHOWN_MAX = 40,            /**< a quoted value in a message */
	SHOWN_LEN = SHOWN_MAX + 4, /**< ... with "..." */
};

/* What errors need: the file's name for messages, its text for positions. */
struct loadctx {
	const char *file;
	const char *text;
};

/** EINVAL with "file:line:col: <message>", located at `path`. */
int bt_agent_fail(const struct loadctx *lc, const char *path,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** Check every section of root; its name and voice (owned by root). */
int bt_agent_check(const struct loadctx *lc, const json_t *root,
		   const char **namep, const char **voicep);

#endif
