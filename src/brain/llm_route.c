/**
 * @file llm_route.c  Which model answers and what the caller hears while
 *                    it is slow: the router's rules (keywords, length, the
 *                    tools that need the larger model) and the fillers,
 *                    which the session renders ahead (llm_lines) so that
 *                    saying one costs no synthesis.
 */
#include <ctype.h>
#include <string.h>
#include "brain/llm_int.h"

void llm_filler(struct resp *r, const char *text)
{
	/* one a response: the router's, the slow first token's or a slow
	 * tool's, whichever comes first; the session also says it only
	 * before the reply's own text */
	if (!text || !text[0] || r->cancelled || r->filled)
		return;
	r->filled = true;
	if (r->sink.fillerh)
		r->sink.fillerh(text, r->sink.arg);
	else
		r->sink.texth(text, r->sink.arg);
}

bool llm_route_big(const struct llm_st *st, const char *text)
{
	size_t i, words = 0;
	json_t *w;
	char low[1024];

	if (!st->has_big || !text)
		return false;
	for (i = 0; text[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)text[i]);
	low[i] = '\0';
	json_array_foreach(st->route_words, i, w) {
		const char *k = json_string_value(w);
		if (k && k[0] && strstr(low, k))
			return true;
	}
	for (const char *p = text; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		words++;
		while (*p && *p != ' ')
			p++;
	}
	return st->route_min_words && words >= st->route_min_words;
}

/*
 * The fast model called a tool the agent file says needs the larger
 * model ("llm.router.tools"): the rest of the response, starting with the
 * request that carries the tool's result, goes to the larger model, after
 * the router's filler. Only from the agent's own model: a fallback that
 * answers instead stays where the chain put it.
 */
void llm_route_tools(struct resp *r)
{
	struct llm_st *st = r->st;

	if (!st || !st->has_big || r->t != &st->main || !st->route_tools)
		return;
	for (unsigned i = 0; i < r->n_calls; i++) {
		size_t k;
		json_t *w;

		if (!r->calls[i].name[0])
			continue;
		json_array_foreach(st->route_tools, k, w) {
			if (strcmp(json_string_value(w), r->calls[i].name))
				continue;
			r->t = &st->big;
			llm_filler(r, st->route_filler);
			return;
		}
	}
}

static const char *say_of(const json_t *o, const char *def)
{
	const char *v = json_string_value(json_object_get(o, "say"));

	return json_is_false(o) ? NULL : v ? v : def;
}

size_t llm_lines(const json_t *agent, const char **lines, size_t max)
{
	const json_t *l = json_object_get(agent, "llm");
	const char *all[3];
	size_t n = 0;

	all[0] = say_of(json_object_get(l, "filler"), DEF_FILLER);
	all[1] = say_of(json_object_get(l, "tool_filler"), DEF_TOOL_FILLER);
	all[2] = json_string_value(json_object_get(json_object_get(l,
						   "router"), "filler"));
	for (size_t i = 0; i < 3 && n < max; i++)
		if (all[i] && all[i][0])
			lines[n++] = all[i];
	return n;
}
