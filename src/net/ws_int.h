/**
 * @file ws_int.h  What the WebSocket client's connection (ws.c) and its
 *                 framing (ws_frame.c) share.
 *
 * A connection (struct wsc) can outlive its handle (struct bt_ws): a
 * handle freed while open sends its close frame and the connection
 * lingers in the thread's list until the server answers.
 */
#ifndef BT_NET_WS_INT_H
#define BT_NET_WS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <re.h>
#include "net/ws.h"

enum {
	MSG_MAX = 4 << 20,       /* a message, whole or reassembled */
	HDR_MAX = 16384,         /* the handshake answer's headers */
	BODY_MAX = 1024,         /* what is kept of a refusal's body */
	CONNECT_TIMEOUT_MS = 5000,
	LINGER_MS = 300,         /* a freed handle's close handshake */
	CLOSE_WAIT_MS = 1000,    /* bt_ws_close(): the server's answer */
};

enum wst {
	WS_RESOLVE, WS_CONNECT, WS_HANDSHAKE,
	WS_REFUSED,    /* a non-101 answer: reading its body */
	WS_OPEN,
	WS_CLOSING,    /* our close frame sent */
	WS_GONE,
};

struct wsm {
	struct dnsc *dnsc;
	struct tls *tls;
	struct list linger;     /* connections whose handle is gone */
	unsigned active;
};

struct wsc {
	struct le le;
	struct wsm *m;
	struct bt_ws *ws;       /* the handle, NULL once it let go */
	struct dns_query *dq;
	struct tcp_conn *tc;
	struct tls_conn *sc;
	struct mbuf *rx;        /* read, not yet used */
	struct mbuf *frag;      /* a fragmented message being put together */
	struct mbuf *req;       /* the handshake request */
	struct tmr tmr;
	enum wst st;
	bool secure, verify, frag_text, in_frag;
	uint16_t port, scode;   /* scode: a refusal's status */
	size_t clen;            /* its Content-Length */
	char reason[64];
	char host[256];
	char accept[32];        /* the Sec-WebSocket-Accept expected */
};

struct bt_ws {
	struct wsc *c;
	bool counted;
	bt_ws_open_h *openh;
	bt_ws_recv_h *recvh;
	bt_ws_close_h *closeh;
	void *arg;
	char url[512];          /* for messages: without its query */
};

/* The owner is told once (or a lingering connection ends); the sockets
 * are dropped. */
void wsc_fail(struct wsc *c, int err, uint16_t code, const char *msg);
/* A lingering connection is done with. */
void linger_end(struct wsc *c);
/* The address for messages. */
const char *wsc_url(const struct wsc *c);

/* A frame to the server, masked; op is the opcode. */
int ws_send_frame(struct wsc *c, uint8_t op, const void *buf, size_t n);
void ws_send_close(struct wsc *c, uint16_t code);
/* One frame from c->rx: 1 taken, 0 incomplete, -1 stop reading. */
int ws_frame(struct wsc *c);

/*
 * For the fuzz harness (tests/fuzz/fuzz_ws.c): a handle with no socket,
 * waiting for the handshake's answer whose Sec-WebSocket-Accept is
 * accept; ws_fuzz_feed gives it bytes as if read from the server.
 */
int ws_fuzz_alloc(struct bt_ws **wsp, const char *accept,
		  bt_ws_open_h *openh, bt_ws_recv_h *recvh,
		  bt_ws_close_h *closeh, void *arg);
void ws_fuzz_feed(struct bt_ws *ws, const uint8_t *p, size_t n);

#endif
