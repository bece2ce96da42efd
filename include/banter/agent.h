/**
 * @file agent.h  Agent files: load, validate, and the settings inside.
 */
#ifndef BANTER_AGENT_H
#define BANTER_AGENT_H

#include "json.h"
#include <stdint.h>

struct bt_agent;

/**
 * Load and validate an agent file (JSON). On error returns EINVAL/ENOENT
 * and bt_errmsg() says file:line:column, the field and what to do.
 * Free with mem_deref().
 */
int bt_agent_load(struct bt_agent **ap, const char *path);

/** Same from a string; `name` is used in messages. */
int bt_agent_load_str(struct bt_agent **ap, const char *text,
		      const char *name);

/**
 * Take and drop a reference to an agent from any thread. libre's
 * mem_ref/mem_deref count without atomics (Debian's libre 1.1), and one
 * agent serves calls on every event loop: a count raced by two threads
 * loses a step (a leak, or a free while in use). Holders that may live on
 * different threads use these; bt_agent_put frees it with the last one.
 */
struct bt_agent *bt_agent_ref(struct bt_agent *a);
void bt_agent_put(struct bt_agent *a);

const char *bt_agent_name(const struct bt_agent *a);
const char *bt_agent_voice(const struct bt_agent *a);  /* "espeak:en-us+f3" */

/** The most voices persona.fallback_voice may list (a network voice's
 *  stand-ins, tried in order). */
enum { BT_VOICE_CHAIN_MAX = 4 };
const json_t *bt_agent_json(const struct bt_agent *a);

/**
 * Find the line and column (1-based) of the value at a dotted path
 * ("flow.nodes.greet.say", "a.b[2].c", "args[\"a.b\"]") in JSON text.
 * Returns 0 if found, ENOENT if not (then *line and *col point at the
 * deepest parent found), EINVAL for a malformed path.
 */
int bt_json_locate(const char *text, const char *path, unsigned *line,
		   unsigned *col);

enum { BT_JSON_KEY_SHOWN = 64 }; /**< longer keys are cut in paths */

/**
 * A string of an agent file in a message: cut to 40 bytes (at a character
 * boundary) with "..." after it. Returns buf.
 */
const char *bt_json_shown(const char *s, char *buf, size_t sz);

/** What a value is, for "(got ...)": "\"text\"", 12, true, "a list of 3
 *  entries", "an empty object" ... */
void bt_json_brief(const json_t *v, char *buf, size_t sz);

/**
 * The path of member `key` of `parent` ("" for the top) into buf, as
 * bt_json_locate() reads it: "flow.nodes" + "greet" -> "flow.nodes.greet".
 * A key that is empty or holds '.', '[', ']', '"' or '\\' is quoted,
 * "flow.nodes" + "a.b" -> "flow.nodes[\"a.b\"]"; one longer than
 * BT_JSON_KEY_SHOWN bytes is cut, "[\"abc\"...]" (found by its start),
 * so that a message quoting the path stays short. The result is cut to
 * fit sz; buf may be parent.
 */
void bt_json_path_add(char *buf, size_t sz, const char *parent,
		      const char *key);

#endif
