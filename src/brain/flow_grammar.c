/**
 * @file flow_grammar.c  The flow's speech-recognition grammars: one per
 *                       node that expects a slot other than text, each
 *                       with every intent's phrases (docs/agent-file.md).
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "banter/banter.h"
#include "brain/flow_int.h"
#include "brain/slots.h"

int flow_expect_type(const json_t *node)
{
	const json_t *e = json_object_get(node, "expect");

	if (!e)
		return -1;
	return slot_type_from_name(
		json_string_value(json_object_get(e, "type")));
}

/*
 * One mem block holds the array, the shared phrase list and every
 * string, so mem_deref(*gp) frees it all and nothing can leak by halves.
 */
int flow_grammars(const json_t *agent, struct bt_stt_grammar **gp,
		  size_t *np)
{
	const json_t *flow = json_object_get(agent, "flow");
	const json_t *nodes = json_object_get(flow, "nodes");
	const json_t *intents = json_object_get(flow, "intents");
	const json_t *it, *ph, *n;
	struct bt_stt_grammar *g;
	const char **phrases;
	char norm[NORM_MAX], *strs;
	const char *id;
	size_t ng = 0, nph = 0, bytes = 0, k, j, i;

	if (!gp || !np)
		return EINVAL;

	json_object_foreach((json_t *)nodes, id, n) {
		int t = flow_expect_type(n);

		if (t > BT_SLOT_TEXT) {
			ng++;
			bytes += strlen(id) + 1;
		}
	}
	json_array_foreach(intents, k, it) {
		json_array_foreach(json_object_get(it, "phrases"), j, ph) {
			slot_normalize(json_string_value(ph), norm,
				       sizeof(norm));
			if (!norm[0])
				continue;
			nph++;
			bytes += strlen(norm) + 1;
		}
	}

	*gp = NULL;
	*np = 0;
	if (!ng)
		return 0;

	g = mem_zalloc(ng * sizeof(*g) + nph * sizeof(char *) + bytes, NULL);
	if (!g)
		return bt_err(ENOMEM, "out of memory making STT grammars");
	phrases = (const char **)(void *)(g + ng);
	strs = (char *)(phrases + nph);

	i = 0;
	json_array_foreach(intents, k, it) {
		json_array_foreach(json_object_get(it, "phrases"), j, ph) {
			size_t len;

			slot_normalize(json_string_value(ph), norm,
				       sizeof(norm));
			if (!norm[0])
				continue;
			len = strlen(norm) + 1;
			memcpy(strs, norm, len);
			phrases[i++] = strs;
			strs += len;
		}
	}

	i = 0;
	json_object_foreach((json_t *)nodes, id, n) {
		int t = flow_expect_type(n);
		size_t len;

		if (t <= BT_SLOT_TEXT)
			continue;
		len = strlen(id) + 1;
		memcpy(strs, id, len);
		g[i].name = strs;
		g[i].type = (enum bt_slot_type)t;
		g[i].phrases = nph ? phrases : NULL;
		g[i].n_phrases = nph;
		strs += len;
		i++;
	}

	*gp = g;
	*np = ng;
	return 0;
}
