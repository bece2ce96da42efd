/**
 * @file jsonloc.c  Where a value sits in JSON text (line and column).
 *
 * jansson keeps no positions for values, yet an error in an agent file is
 * only useful with one. This scanner walks the raw text along a dotted
 * path and skips everything else without building anything, so it costs
 * one pass over the text and no memory. It trusts the text to be JSON
 * (the loader parsed it first) but stays safe on anything: malformed input
 * only ends the walk early.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "banter/agent.h"

enum { KEY_MAX = 256 };

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* p at the opening quote; returns just past the closing one, or NULL. */
static const char *skip_string(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\') {
			if (!p[1])
				return NULL;
			p++;
		}
		else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* p at a value; returns just past it, or NULL on malformed text. */
static const char *skip_value(const char *p)
{
	unsigned depth = 0;

	if (*p == '"')
		return skip_string(p);
	if (*p != '{' && *p != '[') {
		const char *s = p;

		while (*p && !strchr(",}] \t\r\n", *p))
			p++;
		return p == s ? NULL : p;
	}
	while (*p) {
		if (*p == '"') {
			p = skip_string(p);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return p + 1;
		}
		p++;
	}
	return NULL;
}

static unsigned hexval(const char *p)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return 0xffffffffu;
	}
	return v;
}

/*
 * Decode the JSON string at p (at its quote) into buf; false if it is
 * malformed. A key longer than the buffer is cut (*cutp set): it can
 * only match a path's cut key ("[\"abc\"...]").
 */
static bool decode_key(const char *p, char *buf, size_t sz, bool *cutp)
{
	size_t n = 0;

	*cutp = false;

	for (p++; *p && *p != '"'; p++) {
		unsigned cp;
		char c = *p;

		if (c == '\\') {
			p++;
			switch (*p) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				cp = hexval(p + 1);
				if (cp > 0xffff)
					return false;
				p += 4;
				/* keys in agent files are ASCII in practice;
				 * others are written as UTF-8 like jansson does,
				 * surrogate pairs excepted */
				if (cp < 0x80) {
					c = (char)cp;
					break;
				}
				if (n + 3 >= sz) {
					*cutp = true;
					break;
				}
				if (cp < 0x800) {
					buf[n++] = (char)(0xc0 | (cp >> 6));
				}
				else {
					buf[n++] = (char)(0xe0 | (cp >> 12));
					buf[n++] = (char)(0x80 |
							  ((cp >> 6) & 0x3f));
				}
				c = (char)(0x80 | (cp & 0x3f));
				break;
			case '\0':
				return false;
			default: c = *p; break;
			}
		}
		if (*cutp || n + 1 >= sz) {
			*cutp = true;
			break;
		}
		buf[n++] = c;
	}
	if (!*cutp && *p != '"')
		return false;
	buf[n] = '\0';
	return true;
}

/*
 * Find member `key` of the object at p; returns its value or NULL. With
 * `prefix` the first member whose name begins with key matches (a long
 * key cut in the path).
 */
static const char *find_member(const char *p, const char *key, bool prefix)
{
	char name[KEY_MAX];
	size_t klen = strlen(key);

	if (*p != '{')
		return NULL;
	p = skip_ws(p + 1);
	while (*p == '"') {
		bool cut, match = decode_key(p, name, sizeof(name), &cut);

		if (prefix)
			match = match && !strncmp(name, key, klen);
		else
			match = match && !cut && !strcmp(name, key);

		p = skip_string(p);
		if (!p)
			return NULL;
		p = skip_ws(p);
		if (*p != ':')
			return NULL;
		p = skip_ws(p + 1);
		if (match)
			return *p && *p != '}' && *p != ',' ? p : NULL;
		p = skip_value(p);
		if (!p)
			return NULL;
		p = skip_ws(p);
		if (*p != ',')
			return NULL;
		p = skip_ws(p + 1);
	}
	return NULL;
}

/* Element idx of the array at p, or NULL. */
static const char *find_element(const char *p, unsigned long idx)
{
	unsigned long i;

	if (*p != '[')
		return NULL;
	p = skip_ws(p + 1);
	if (*p == ']')
		return NULL;
	for (i = 0; i < idx; i++) {
		p = skip_value(p);
		if (!p)
			return NULL;
		p = skip_ws(p);
		if (*p != ',')
			return NULL;
		p = skip_ws(p + 1);
	}
	return *p && *p != ']' ? p : NULL;
}

static void position(const char *text, const char *at, unsigned *line,
		     unsigned *col)
{
	unsigned l = 1, c = 1;
	const char *p;

	for (p = text; p < at; p++) {
		if (*p == '\n') {
			l++;
			c = 1;
		}
		/* count characters, not bytes, as jansson does */
		else if (((unsigned char)*p & 0xc0) != 0x80) {
			c++;
		}
	}
	if (line)
		*line = l;
	if (col)
		*col = c;
}

/*
 * A quoted key in a path, q at its '"': ["a.b"] or, cut, ["abc"...].
 * Returns past the ']', or NULL if malformed or too long.
 */
static const char *path_quoted(const char *q, char *key, size_t sz,
			       bool *prefixp)
{
	size_t n = 0;

	for (q++; *q && *q != '"'; q++) {
		if (*q == '\\' && q[1])
			q++;
		if (n + 1 >= sz)
			return NULL;
		key[n++] = *q;
	}
	if (*q != '"')
		return NULL;
	key[n] = '\0';
	q++;
	*prefixp = !strncmp(q, "...", 3);
	if (*prefixp)
		q += 3;
	return *q == ']' ? q + 1 : NULL;
}

void bt_json_path_add(char *buf, size_t sz, const char *parent,
		      const char *key)
{
	size_t len, klen, i;
	bool plain, cut;

	if (!buf || !sz)
		return;
	if (!parent)
		parent = "";
	len = strlen(parent);
	if (len > sz - 1)
		len = sz - 1;
	memmove(buf, parent, len);
	buf[len] = '\0';
	if (!key)
		return;

	klen = strlen(key);
	cut = klen > BT_JSON_KEY_SHOWN;
	if (cut) {
		/* at a character's start, not inside UTF-8 */
		klen = BT_JSON_KEY_SHOWN;
		while (klen && ((unsigned char)key[klen] & 0xc0) == 0x80)
			klen--;
	}
	plain = klen && !cut && !strpbrk(key, ".[]\"\\");
	if (plain) {
		if (len && len + 1 < sz)
			buf[len++] = '.';
		for (i = 0; i < klen && len + 1 < sz; i++)
			buf[len++] = key[i];
		buf[len] = '\0';
		return;
	}

	/* ["..."]: the key as it is, with " and \ escaped */
	if (len + 2 < sz) {
		buf[len++] = '[';
		buf[len++] = '"';
	}
	for (i = 0; i < klen && len + 2 < sz; i++) {
		if (key[i] == '"' || key[i] == '\\') {
			if (len + 3 >= sz)
				break;
			buf[len++] = '\\';
		}
		buf[len++] = key[i];
	}
	buf[len] = '\0';
	if (len + (cut ? 5 : 2) < sz) {
		memcpy(buf + len, cut ? "\"...]" : "\"]", cut ? 6 : 3);
		len += cut ? 5 : 2;
	}
}

int bt_json_locate(const char *text, const char *path, unsigned *line,
		   unsigned *col)
{
	const char *p, *q, *found;
	int err = 0;

	if (!text || !path)
		return EINVAL;

	found = p = skip_ws(text);
	q = path;
	while (*q) {
		char key[KEY_MAX];
		size_t n;

		if (*q == '[' && q[1] == '"') {
			bool prefix;

			q = path_quoted(q + 1, key, sizeof(key), &prefix);
			if (!q) {
				err = EINVAL;
				break;
			}
			p = find_member(p, key, prefix);
		}
		else if (*q == '[') {
			char *end;
			unsigned long idx = strtoul(q + 1, &end, 10);

			if (end == q + 1 || *end != ']') {
				err = EINVAL;
				break;
			}
			q = end + 1;
			p = find_element(p, idx);
		}
		else {
			if (*q == '.')
				q++;
			n = strcspn(q, ".[");
			if (!n || n >= sizeof(key)) {
				err = EINVAL;
				break;
			}
			memcpy(key, q, n);
			key[n] = '\0';
			q += n;
			p = find_member(p, key, false);
		}
		if (!p) {
			err = ENOENT;
			break;
		}
		found = p;
	}

	position(text, found, line, col);
	return err;
}
