/**
 * @file history.c  The conversation: items with ids, as the brain and a
 *                  transport see them; an assistant item keeps its word
 *                  timings so a client can cut it to what was heard.
 */
#include "core/session_int.h"

void ss_hist_free(struct hist *h)
{
	h->text = mem_deref(h->text);
	h->tool = mem_deref(h->tool);
	h->words = mem_deref(h->words);
	h->n_words = 0;
}

/* Add an item to the history; returns it (NULL if not added). */
struct hist *ss_hist_add_id(struct bt_session *s, enum bt_role role,
				const char *text, const char *id)
{
	struct hist *h;

	if (!text || (!text[0] && role != BT_ROLE_ASSISTANT))
		return NULL;
	if (s->n_hist == MAX_HISTORY) {
		/* keep the latest: drop the oldest entry */
		ss_hist_free(&s->hist[0]);
		memmove(&s->hist[0], &s->hist[1],
			(MAX_HISTORY - 1) * sizeof(s->hist[0]));
		--s->n_hist;
	}
	h = &s->hist[s->n_hist];
	memset(h, 0, sizeof(*h));
	if (str_dup(&h->text, text))
		return NULL;
	h->role = role;
	if (id && id[0])
		str_ncpy(h->id, id, sizeof(h->id));
	else
		ss_new_item_id(s, h->id, sizeof(h->id));
	++s->n_hist;
	return h;
}

struct hist *ss_hist_find(struct bt_session *s, const char *id)
{
	for (size_t i = 0; id && i < s->n_hist; i++)
		if (!strcmp(s->hist[i].id, id))
			return &s->hist[i];
	return NULL;
}

/* Take back the last history entry if it is the user's text. */
void ss_hist_drop_user(struct bt_session *s, const char *text)
{
	struct hist *h = s->n_hist ? &s->hist[s->n_hist - 1] : NULL;

	if (!h || h->role != BT_ROLE_USER || strcmp(h->text, text))
		return;
	ss_hist_free(h);
	--s->n_hist;
}

char *bt_session_history(const struct bt_session *s)
{
	json_t *a;
	char *js, *out = NULL;

	if (!s)
		return NULL;
	a = json_array();
	for (size_t i = 0; i < s->n_hist; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "role", json_string(
			bt_role_name(s->hist[i].role)));
		json_object_set_new(o, "text", json_string(s->hist[i].text));
		json_object_set_new(o, "id", json_string(s->hist[i].id));
		if (s->hist[i].interrupted)
			json_object_set_new(o, "interrupted", json_true());
		if (s->hist[i].tool)
			json_object_set_new(o, "tool", json_loads(
				s->hist[i].tool, 0, NULL));
		json_array_append_new(a, o);
	}
	js = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(a);
	if (js) {
		str_dup(&out, js);
		free(js);
	}
	return out;
}

/* Keep the reply's word timings with its history item (for truncate). */
void ss_hist_keep_words(struct hist *h, const struct reply *r)
{
	if (!h || !r->n)
		return;
	h->audio = true;
	if (!r->n_words)
		return;
	h->words = mem_zalloc(r->n_words * sizeof(*h->words), NULL);
	if (!h->words)
		return;
	for (size_t i = 0; i < r->n_words; i++) {
		str_ncpy(h->words[i].text, r->words[i].text,
			 sizeof(h->words[i].text));
		h->words[i].end_ms = (uint32_t)(r->words[i].end * 1000 /
						BT_RATE_HZ);
	}
	h->n_words = r->n_words;
}

int bt_session_item_add(struct bt_session *s, enum bt_role role,
			const char *text, const char *id)
{
	struct hist *h;

	if (!s || !text)
		return EINVAL;
	if (strlen(text) >= MAX_TEXT)
		return bt_err(EMSGSIZE, "the item's text is %zu bytes; at most "
			      "%d are kept", strlen(text), MAX_TEXT - 1);
	if (id && ss_hist_find(s, id))
		return bt_err(EEXIST, "an item with id \"%s\" is already in "
			      "the conversation", id);
	h = ss_hist_add_id(s, role, text, id);
	if (!h)
		return role == BT_ROLE_USER && !text[0] ?
			bt_err(EINVAL, "a user item needs text") : ENOMEM;
	if (role == BT_ROLE_USER) {
		memset(&s->unanswered, 0, sizeof(s->unanswered));
		str_ncpy(s->unanswered.text, text,
			 sizeof(s->unanswered.text));
		s->unanswered.confidence = 1.0f;
		s->unanswered.typed = true;
		s->unanswered.speech_start = s->unanswered.speech_end =
			s->unanswered.endpoint = s->unanswered.stt_final =
			ss_now_ms(s);
		str_ncpy(s->unanswered.item_id, h->id,
			 sizeof(s->unanswered.item_id));
		s->has_unanswered = true;
	}
	return 0;
}

int bt_session_function_add(struct bt_session *s, const char *call_id,
			    const char *name, const char *args,
			    const char *output, const char *id)
{
	struct hist *h;
	json_t *o;
	char line[MAX_TEXT], *js;

	if (!s || !call_id || !call_id[0] || (!output && (!name || !name[0])))
		return bt_err(EINVAL, "a function item needs a call_id, and a "
			      "name or an output");
	if (id && ss_hist_find(s, id))
		return bt_err(EEXIST, "an item with id \"%s\" is already in "
			      "the conversation", id);
	if (output)
		snprintf(line, sizeof(line), "%s -> %s", call_id, output);
	else
		snprintf(line, sizeof(line), "%s(%s)", name, args ? args : "");
	o = output ? json_pack("{s:s,s:s}", "call_id", call_id, "output",
			       output)
		   : json_pack("{s:s,s:s,s:s}", "call_id", call_id, "name",
			       name, "args", args && args[0] ? args : "{}");
	js = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	h = js ? ss_hist_add_id(s, BT_ROLE_TOOL, line, id) : NULL;
	if (h && str_dup(&h->tool, js))
		h = NULL;
	free(js);
	return h ? 0 : ENOMEM;
}

const char *bt_session_last_item_id(const struct bt_session *s)
{
	return s && s->n_hist ? s->hist[s->n_hist - 1].id : NULL;
}

int bt_session_item_delete(struct bt_session *s, const char *id)
{
	struct hist *h = s ? ss_hist_find(s, id) : NULL;
	size_t i;

	if (!h)
		return bt_err(ENOENT, "no item \"%s\" in the conversation",
			      id ? id : "");
	i = (size_t)(h - s->hist);
	ss_hist_free(h);
	memmove(&s->hist[i], &s->hist[i + 1],
		(s->n_hist - i - 1) * sizeof(s->hist[0]));
	--s->n_hist;
	if (s->has_unanswered && !strcmp(s->unanswered.item_id, id))
		s->has_unanswered = false;
	return 0;
}

char *bt_session_item(const struct bt_session *s, const char *id)
{
	const struct hist *h = NULL;
	char *out = NULL, *js;
	json_t *o;

	for (size_t i = 0; s && id && i < s->n_hist; i++)
		if (!strcmp(s->hist[i].id, id))
			h = &s->hist[i];
	if (!h)
		return NULL;
	o = json_object();
	json_object_set_new(o, "id", json_string(h->id));
	json_object_set_new(o, "role", json_string(bt_role_name(h->role)));
	json_object_set_new(o, "text", json_string(h->text));
	json_object_set_new(o, "audio", json_boolean(h->audio));
	js = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (js) {
		str_dup(&out, js);
		free(js);
	}
	return out;
}

const char *bt_role_name(enum bt_role r)
{
	return r == BT_ROLE_USER ? "user" : r == BT_ROLE_TOOL ? "tool" :
		r == BT_ROLE_SYSTEM ? "system" : "assistant";
}
