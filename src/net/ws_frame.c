/**
 * @file ws_frame.c  The WebSocket client's frames (RFC 6455 section 5):
 *                   masked ones out, the server's in, with fragments put
 *                   together, pings answered and the close handshake.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <re.h>
#include "net/ws.h"
#include "net/ws_int.h"

int ws_send_frame(struct wsc *c, uint8_t op, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint8_t mask[4], *dst;
	struct mbuf *mb;
	int err;

	if (!c->tc)
		return ENOTCONN;
	mb = mbuf_alloc(n + 14);
	if (!mb)
		return ENOMEM;
	err = mbuf_write_u8(mb, (uint8_t)(0x80 | op));
	if (n < 126) {
		err |= mbuf_write_u8(mb, (uint8_t)(0x80 | n));
	}
	else if (n < 65536) {
		err |= mbuf_write_u8(mb, 0x80 | 126);
		err |= mbuf_write_u16(mb, htons((uint16_t)n));
	}
	else {
		err |= mbuf_write_u8(mb, 0x80 | 127);
		err |= mbuf_write_u32(mb, 0);
		err |= mbuf_write_u32(mb, htonl((uint32_t)n));
	}
	rand_bytes(mask, sizeof(mask));
	err |= mbuf_write_mem(mb, mask, sizeof(mask));
	if (!err && n)
		err = mbuf_fill(mb, 0, n);
	if (err) {
		mem_deref(mb);
		return ENOMEM;
	}
	dst = mb->buf + mb->end - n;
	for (size_t i = 0; i < n; i++)
		dst[i] = p[i] ^ mask[i & 3];
	mb->pos = 0;
	err = tcp_send(c->tc, mb);
	mem_deref(mb);
	return err;
}

void ws_send_close(struct wsc *c, uint16_t code)
{
	uint8_t b[2] = {(uint8_t)(code >> 8), (uint8_t)code};

	(void)ws_send_frame(c, 0x8, b, sizeof(b));
}

static void protocol_error(struct wsc *c, uint16_t code, const char *what)
{
	char m[800];

	snprintf(m, sizeof(m), "the server at %s broke the WebSocket "
		 "protocol: %s; the connection is closed", wsc_url(c), what);
	ws_send_close(c, code);
	wsc_fail(c, code == 1009 ? EOVERFLOW : EPROTO, code, m);
}

static void deliver(struct wsc *c, bool text, const uint8_t *p, size_t n)
{
	struct bt_ws *ws = c->ws;

	if (c->st == WS_OPEN && ws && ws->recvh)
		ws->recvh(text, p, n, ws->arg);
}

static void on_close_frame(struct wsc *c, const uint8_t *p, size_t n)
{
	uint16_t code = n >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : 1005;
	char m[900];

	if (c->st == WS_OPEN)
		ws_send_close(c, code == 1005 ? 1000 : code);
	if (!c->ws) {
		linger_end(c);
		return;
	}
	if (n > 2)
		snprintf(m, sizeof(m), "the server at %s closed the WebSocket "
			 "(%u: %.*s)", wsc_url(c), code,
			 (int)(n - 2 > 300 ? 300 : n - 2), p + 2);
	else
		snprintf(m, sizeof(m), "the server at %s closed the WebSocket "
			 "(%u)", wsc_url(c), code);
	wsc_fail(c, 0, code, m);
}

/* One frame from rx: 1 taken, 0 incomplete, -1 stop reading. */
int ws_frame(struct wsc *c)
{
	struct mbuf *mb = c->rx;
	size_t left = mbuf_get_left(mb), hl = 2;
	uint8_t *p = mbuf_buf(mb), op;
	uint64_t len;
	bool fin;

	if (left < 2)
		return 0;
	fin = p[0] & 0x80;
	op = p[0] & 0x0f;
	len = p[1] & 0x7f;
	if (len == 126) {
		hl = 4;
		if (left < hl)
			return 0;
		len = (uint64_t)p[2] << 8 | p[3];
	}
	else if (len == 127) {
		hl = 10;
		if (left < hl)
			return 0;
		len = 0;
		for (int i = 2; i < 10; i++)
			len = len << 8 | p[i];
	}
	if (p[0] & 0x70) {
		protocol_error(c, 1002, "a frame with reserved bits set (an "
			       "extension that was not asked for)");
		return -1;
	}
	if (p[1] & 0x80) {
		protocol_error(c, 1002, "a masked frame (a server must not "
			       "mask)");
		return -1;
	}
	if (len > MSG_MAX) {
		protocol_error(c, 1009, "a message larger than 4 MiB");
		return -1;
	}
	if (op >= 0x8 && (len > 125 || !fin)) {
		protocol_error(c, 1002, "a control frame fragmented or over "
			       "125 bytes");
		return -1;
	}
	if (left < hl + len)
		return 0;
	p += hl;
	mb->pos += hl + (size_t)len;

	switch (op) {

	case 0x8:
		on_close_frame(c, p, (size_t)len);
		return -1;

	case 0x9:
		if (c->st == WS_OPEN)
			(void)ws_send_frame(c, 0xA, p, (size_t)len);
		return 1;

	case 0xA:
		return 1;

	case 0x1:
	case 0x2:
		if (c->in_frag) {
			protocol_error(c, 1002, "a new message inside a "
				       "fragmented one");
			return -1;
		}
		if (fin) {
			deliver(c, op == 0x1, p, (size_t)len);
			return 1;
		}
		c->in_frag = true;
		c->frag_text = op == 0x1;
		mem_deref(c->frag);
		c->frag = mbuf_alloc((size_t)len + 1024);
		break;

	case 0x0:
		if (!c->in_frag) {
			protocol_error(c, 1002, "a continuation frame with no "
				       "message to continue");
			return -1;
		}
		break;

	default:
		protocol_error(c, 1002, "an unknown opcode");
		return -1;
	}

	if (!c->frag || c->frag->end + len > MSG_MAX ||
	    mbuf_write_mem(c->frag, p, (size_t)len)) {
		c->frag = mem_deref(c->frag);
		protocol_error(c, 1009, "a message larger than 4 MiB (or out "
			       "of memory)");
		return -1;
	}
	if (fin) {
		struct mbuf *f = c->frag;

		c->frag = NULL;
		c->in_frag = false;
		deliver(c, c->frag_text, f->buf, f->end);
		mem_deref(f);
	}
	return 1;
}

