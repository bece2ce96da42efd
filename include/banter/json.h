/**
 * @file json.h  jansson next to libre.
 *
 * libre's re.h (through re_json.h) and jansson both define the enumerators
 * JSON_STRING and JSON_NULL, so a file including both does not compile.
 * Include this (or a banter header) instead of <jansson.h>: whichever of
 * the two comes first, afterwards JSON_STRING and JSON_NULL are jansson's
 * (libre's own JSON parser is not used by banter). Including <jansson.h>
 * directly before <re.h> still breaks.
 */
#ifndef BANTER_JSON_H
#define BANTER_JSON_H

#ifndef RE_H__
#define JSON_STRING RE_JSON_STRING
#define JSON_NULL RE_JSON_NULL
#include <re.h>
#undef JSON_STRING
#undef JSON_NULL
#include <jansson.h>
#else
#define JSON_STRING BT_JSON_STRING
#define JSON_NULL BT_JSON_NULL
#include <jansson.h>
#endif

/** A string member of @p o, or @p def when it is missing or not a string
 *  (agent-file settings with defaults). */
static inline const char *bt_json_str_or(const json_t *o, const char *key,
					 const char *def)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : def;
}

#endif
