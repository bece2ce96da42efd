/**
 * @file complete_words.c  Splitting a transcript into the words the
 * completeness rules read, and looking them up.
 *
 * Cost: one pass over at most TEXT_MAX bytes; lookups are string
 * compares against short NULL-terminated tables. No allocation.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <re.h>
#include "turn/complete_int.h"

enum {
	TEXT_MAX = 1024,    /* of longer input only the end is read */
	SCAN_MAX = 65536,   /* longest input looked at */
};

bool cw_in(const char *w, const char *const *list)
{
	for (; *list; list++) {
		if (!strcmp(w, *list))
			return true;
	}
	return false;
}

static void push_word(struct words *ws, const char *s, size_t len, bool brk)
{
	size_t i;

	while (len && s[0] == '\'') {
		s++;
		len--;
	}
	while (len && s[len - 1] == '\'')
		len--;
	if (!len)
		return;
	if (len >= WORD_LEN)
		len = WORD_LEN - 1;  /* cut: it will match nothing */

	if (ws->n == MAX_WORDS) {
		/* keep the head (clause type) and the tail (the ending) */
		memmove(ws->v[HEAD_WORDS], ws->v[HEAD_WORDS + 1],
			(MAX_WORDS - HEAD_WORDS - 1) * sizeof(ws->v[0]));
		memmove(&ws->brk[HEAD_WORDS], &ws->brk[HEAD_WORDS + 1],
			(MAX_WORDS - HEAD_WORDS - 1) * sizeof(ws->brk[0]));
		ws->n--;
	}
	ws->brk[ws->n] = brk;
	for (i = 0; i < len; i++)
		ws->v[ws->n][i] = (char)tolower((unsigned char)s[i]);
	ws->v[ws->n][len] = '\0';
	ws->n++;
}

/*
 * Words are letters with inner apostrophes, or digits with inner colons
 * ("7:30"); a letter-digit change splits ("7pm" -> "7" "pm"); anything
 * else separates (so "twenty-five" is two words). A comma or semicolon
 * before a word is kept as its brk.
 */
void cw_split(struct words *ws, const char *text)
{
	size_t i = 0, start = 0, len = 0;
	int kind = 0;  /* 0 none, 1 letters, 2 digits */
	bool comma = false, brk = false;

	ws->n = 0;
	if (!text)
		return;
	len = strnlen(text, SCAN_MAX);
	if (len > TEXT_MAX) {
		const char *end = text + len;

		/* the ending decides; start at a word boundary */
		text = end - TEXT_MAX;
		while (*text && !isspace((unsigned char)*text))
			text++;
		len = (size_t)(end - text);
	}
	for (i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)text[i] : ' ';
		int k = isalpha(c) ? 1 : isdigit(c) ? 2 : 0;

		if (c == '\'' && kind == 1)
			continue;
		if (c == ':' && kind == 2 && i + 1 < len &&
		    isdigit((unsigned char)text[i + 1]))
			continue;
		if (!k && (c == ',' || c == ';'))
			comma = true;
		if (k != kind) {
			if (kind)
				push_word(ws, text + start, i - start, brk);
			if (k) {  /* "7pm": only "7" follows the comma */
				brk = !kind && comma;
				comma = false;
			}
			kind = k;
			start = i;
		}
	}
}

const char *cw_word(const struct words *ws, size_t back)
{
	return back < ws->n ? ws->v[ws->n - 1 - back] : "";
}

bool cw_ends_with(const struct words *ws, const char *phrase)
{
	char buf[64];
	const char *p;
	size_t k = 1, i;

	for (p = phrase; *p; p++)
		k += *p == ' ';
	if (k > ws->n)
		return false;
	buf[0] = '\0';
	for (i = k; i > 0; i--) {
		size_t l = strlen(buf);

		if (re_snprintf(buf + l, sizeof(buf) - l, "%s%s",
				l ? " " : "", cw_word(ws, i - 1)) < 0)
			return false;
	}
	return !strcmp(buf, phrase);
}

bool cw_ends_with_any(const struct words *ws, const char *const *list)
{
	for (; *list; list++) {
		if (cw_ends_with(ws, *list))
			return true;
	}
	return false;
}
