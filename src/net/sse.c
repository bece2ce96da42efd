/**
 * @file sse.c  Server-sent events: a line splitter and the field rules.
 */
#include <errno.h>
#include <re.h>
#include <string.h>
#include "net/sse.h"

#define DEFAULT_MAX (1u << 20)

struct bt_sse {
	struct mbuf *line;  /* the line being read */
	struct mbuf *data;  /* the event's data so far */
	char event[64];
	size_t max;
	bool last_cr;       /* a CR ended the last line: skip a next LF */
	bt_sse_event_h *h;
	void *arg;
};

static void sse_destructor(void *arg)
{
	struct bt_sse *s = arg;

	mem_deref(s->line);
	mem_deref(s->data);
}

int bt_sse_alloc(struct bt_sse **sp, size_t max_bytes, bt_sse_event_h *h,
		 void *arg)
{
	struct bt_sse *s;

	if (!sp || !h)
		return EINVAL;
	s = mem_zalloc(sizeof(*s), sse_destructor);
	if (!s)
		return ENOMEM;
	s->line = mbuf_alloc(256);
	s->data = mbuf_alloc(256);
	if (!s->line || !s->data) {
		mem_deref(s);
		return ENOMEM;
	}
	s->max = max_bytes ? max_bytes : DEFAULT_MAX;
	s->h = h;
	s->arg = arg;
	*sp = s;
	return 0;
}

static int dispatch(struct bt_sse *s)
{
	int err = 0;

	if (s->data->end) {
		size_t len = s->data->end - 1;  /* drop the last "\n" */

		s->data->buf[len] = '\0';
		err = s->h(s->event, (const char *)s->data->buf, len, s->arg);
	}
	s->data->end = s->data->pos = 0;
	s->event[0] = '\0';
	return err;
}

static int field(struct bt_sse *s, const char *l, size_t n)
{
	const char *colon = memchr(l, ':', n);
	size_t nl = colon ? (size_t)(colon - l) : n;
	const char *v = colon ? colon + 1 : l + n;
	size_t vn = (size_t)(l + n - v);

	if (vn && *v == ' ') {
		++v;
		--vn;
	}
	if (nl == 4 && !memcmp(l, "data", 4)) {
		if (s->data->end + vn + 2 > s->max)
			return EMSGSIZE;
		if (mbuf_write_mem(s->data, (const uint8_t *)v, vn) ||
		    mbuf_write_u8(s->data, '\n'))
			return ENOMEM;
	}
	else if (nl == 5 && !memcmp(l, "event", 5)) {
		if (vn >= sizeof(s->event))
			vn = sizeof(s->event) - 1;
		memcpy(s->event, v, vn);
		s->event[vn] = '\0';
	}
	/* "id", "retry", unknown fields: nothing this client uses */
	return 0;
}

static int line_end(struct bt_sse *s)
{
	const char *l = (const char *)s->line->buf;
	size_t n = s->line->end;
	int err;

	s->line->end = s->line->pos = 0;
	if (!n)
		return dispatch(s);
	if (l[0] == ':')
		return 0;  /* a comment (a keep-alive) */
	err = field(s, l, n);
	return err;
}

int bt_sse_feed(struct bt_sse *s, const char *buf, size_t n)
{
	int err = 0;

	if (!s || (!buf && n))
		return EINVAL;
	for (size_t i = 0; !err && i < n; i++) {
		char c = buf[i];

		if (c == '\n' && s->last_cr) {
			s->last_cr = false;
			continue;
		}
		s->last_cr = c == '\r';
		if (c == '\n' || c == '\r') {
			err = line_end(s);
			continue;
		}
		if (s->line->end + s->data->end + 1 > s->max)
			return EMSGSIZE;
		err = mbuf_write_u8(s->line, (uint8_t)c);
	}
	return err;
}

size_t bt_sse_pending(const struct bt_sse *s)
{
	return s ? s->line->end + s->data->end : 0;
}
