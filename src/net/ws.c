/**
 * @file ws.c  WebSocket client connections on the thread's event loop.
 *
 * libre's websock does the protocol (handshake, masking, ping/pong, the
 * close handshake) over its HTTP client, which does DNS, TCP and TLS.
 * This file keeps one set of those per thread, reassembles fragmented
 * messages, adds a connect timeout and says in words what went wrong.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <re.h>
#include "net/ws.h"

enum {
	MSG_MAX = 4 << 20,  /* a reassembled message; libre caps a frame at
			       128 KiB */
	CONNECT_TIMEOUT_MS = 5000,
};

struct wsm {
	struct dnsc *dnsc;
	struct http_cli *cli;
	struct websock *sock;
	unsigned active;
};

struct bt_ws {
	struct wsm *m;
	struct websock_conn *conn;
	struct tmr tmr;
	struct mbuf *frag;     /* a fragmented message being put together */
	bool frag_text;
	bool open, counted;
	char url[512];
	bt_ws_open_h *openh;
	bt_ws_recv_h *recvh;
	bt_ws_close_h *closeh;
	void *arg;
};

static _Thread_local struct wsm *tw;

static void wsm_destructor(void *arg)
{
	struct wsm *m = arg;

	mem_deref(m->cli);
	mem_deref(m->dnsc);
	mem_deref(m->sock);
}

static int wsm_get(struct wsm **mp)
{
	struct sa nsv[8];
	uint32_t nsn = 8;
	char domain[64] = "";
	struct wsm *m;
	int err;

	if (tw) {
		*mp = tw;
		return 0;
	}
	m = mem_zalloc(sizeof(*m), wsm_destructor);
	if (!m)
		return ENOMEM;
	if (dns_srv_get(domain, sizeof(domain), nsv, &nsn) || !nsn) {
		/* no resolv.conf: names will not resolve, addresses will */
		nsn = 1;
		(void)sa_set_str(&nsv[0], "127.0.0.1", 53);
	}
	err = dnsc_alloc(&m->dnsc, NULL, nsv, nsn);
	if (!err)
		err = http_client_alloc(&m->cli, m->dnsc);
	if (!err && access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
		err = http_client_add_ca(m->cli,
					 "/etc/ssl/certs/ca-certificates.crt");
	if (!err)
		err = websock_alloc(&m->sock, NULL, NULL);
	if (err) {
		mem_deref(m);
		return err;
	}
	tw = m;
	*mp = m;
	return 0;
}

static void uncount(struct bt_ws *ws)
{
	if (ws->counted && ws->m && ws->m->active)
		--ws->m->active;
	ws->counted = false;
}

static void ws_destructor(void *arg)
{
	struct bt_ws *ws = arg;

	tmr_cancel(&ws->tmr);
	uncount(ws);
	mem_deref(ws->frag);
	mem_deref(ws->conn);
	mem_deref(ws->m);
}

/* Tell the owner once, then never again. */
static void ws_fail(struct bt_ws *ws, int err, const char *msg)
{
	bt_ws_close_h *h = ws->closeh;

	tmr_cancel(&ws->tmr);
	ws->open = false;
	ws->closeh = NULL;
	ws->recvh = NULL;
	ws->openh = NULL;
	uncount(ws);
	if (h)
		h(err, 0, msg, ws->arg);
}

static void timeout_h(void *arg)
{
	struct bt_ws *ws = arg;
	char msg[640];

	snprintf(msg, sizeof(msg), "no WebSocket connection to %s within "
		 "the connect timeout", ws->url);
	ws->conn = mem_deref(ws->conn);
	ws_fail(ws, ETIMEDOUT, msg);
}

static void estab_h(void *arg)
{
	struct bt_ws *ws = arg;
	int fd = tcp_conn_fd(websock_tcp(ws->conn)), one = 1;

	tmr_cancel(&ws->tmr);
	/*
	 * No Nagle: a small message after a larger one (Deepgram's
	 * Finalize after the last audio, a voice's flush after its text)
	 * waited for the peer's ACK of the one before, which a peer that
	 * delays its ACKs sends up to 40 ms later. bench/cloud_load.sh
	 * (Deepgram messages 50 ms late): end of turn -> final p95 94 ->
	 * 52 ms at 20 calls, 100 -> 63 ms at 500.
	 */
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
	ws->open = true;
	if (ws->openh)
		ws->openh(ws->arg);
}

static void recv_h(const struct websock_hdr *hdr, struct mbuf *mb, void *arg)
{
	struct bt_ws *ws = arg;
	size_t n = mbuf_get_left(mb);

	if (!ws->recvh)
		return;
	if (hdr->opcode != WEBSOCK_CONT && hdr->fin) {
		ws->recvh(hdr->opcode == WEBSOCK_TEXT, mbuf_buf(mb), n,
			  ws->arg);
		return;
	}
	if (hdr->opcode != WEBSOCK_CONT) {
		ws->frag = mem_deref(ws->frag);
		ws->frag = mbuf_alloc(n + 1024);
		ws->frag_text = hdr->opcode == WEBSOCK_TEXT;
	}
	if (!ws->frag || ws->frag->end + n > MSG_MAX ||
	    mbuf_write_mem(ws->frag, mbuf_buf(mb), n)) {
		ws->frag = mem_deref(ws->frag);
		ws->conn = mem_deref(ws->conn);
		ws_fail(ws, EOVERFLOW, "a WebSocket message was larger than "
			"4 MiB, or out of memory; the connection is closed");
		return;
	}
	if (hdr->fin) {
		struct mbuf *f = ws->frag;

		ws->frag = NULL;
		ws->recvh(ws->frag_text, f->buf, f->end, ws->arg);
		mem_deref(f);
	}
}

static void close_h(int err, void *arg)
{
	struct bt_ws *ws = arg;
	char msg[700];

	if (!ws->open && err)
		re_snprintf(msg, sizeof(msg), "cannot open a WebSocket to %s: "
			    "%s (check the URL, that the server runs, and the "
			    "API key)", ws->url, err == EPROTO ? "the server "
			    "did not accept the upgrade (an HTTP error such as "
			    "401 or 503)" : strerror(err));
	else if (!ws->open)
		snprintf(msg, sizeof(msg), "the server at %s closed the "
			 "connection before it opened", ws->url);
	else if (err)
		re_snprintf(msg, sizeof(msg), "the WebSocket to %s broke: %m",
			 ws->url, err);
	else
		snprintf(msg, sizeof(msg), "the server at %s closed the "
			 "WebSocket", ws->url);
	ws_fail(ws, err, msg);
}

int bt_ws_connect(struct bt_ws **wsp, const struct bt_ws_prm *prm,
		  bt_ws_open_h *openh, bt_ws_recv_h *recvh,
		  bt_ws_close_h *closeh, void *arg)
{
	struct bt_ws *ws;
	struct wsm *m;
	int err;

	if (!wsp || !prm || !prm->url || !recvh || !closeh)
		return EINVAL;
	err = wsm_get(&m);
	if (err)
		return err;
	ws = mem_zalloc(sizeof(*ws), ws_destructor);
	if (!ws)
		return ENOMEM;
	ws->m = mem_ref(m);
	ws->openh = openh;
	ws->recvh = recvh;
	ws->closeh = closeh;
	ws->arg = arg;
	/* for messages: the address without its query (keys, settings) */
	str_ncpy(ws->url, prm->url, sizeof(ws->url));
	ws->url[strcspn(ws->url, "?")] = '\0';
	tmr_init(&ws->tmr);
	err = websock_connect(&ws->conn, m->sock, m->cli, prm->url, 0,
			      estab_h, recv_h, close_h, ws, "%s",
			      prm->headers ? prm->headers : "");
	if (err) {
		mem_deref(ws);
		return err;
	}
	ws->counted = true;
	++m->active;
	tmr_start(&ws->tmr, prm->connect_timeout_ms ? prm->connect_timeout_ms
		  : CONNECT_TIMEOUT_MS, timeout_h, ws);
	*wsp = ws;
	return 0;
}

int bt_ws_send_text(struct bt_ws *ws, const char *text)
{
	if (!ws || !text)
		return EINVAL;
	if (!ws->open || !ws->conn)
		return ENOTCONN;
	return websock_send(ws->conn, WEBSOCK_TEXT, "%s", text);
}

int bt_ws_send_bin(struct bt_ws *ws, const void *buf, size_t n)
{
	if (!ws || (!buf && n))
		return EINVAL;
	if (!ws->open || !ws->conn)
		return ENOTCONN;
	return websock_send(ws->conn, WEBSOCK_BIN, "%b", buf, n);
}

bool bt_ws_is_open(const struct bt_ws *ws)
{
	return ws && ws->open;
}

unsigned bt_ws_active(void)
{
	return tw ? tw->active : 0;
}

/* Connections freed while open finish their close handshake inside
 * libre (each holds a reference to the thread's websock). */
static bool lingering(void)
{
	return tw && tw->sock && mem_nrefs(tw->sock) > 1;
}

static void drain_tick(void *arg)
{
	struct tmr *t = arg;
	uint64_t *until = (uint64_t *)(t + 1);

	if (!lingering() || tmr_jiffies() >= *until) {
		re_cancel();
		return;
	}
	tmr_start(t, 10, drain_tick, t);
}

void bt_ws_thread_close(void)
{
	struct {
		struct tmr t;
		uint64_t until;
	} d;

	if (!tw)
		return;
	if (lingering()) {
		/* let the servers answer our close frames (at most 300 ms),
		 * so no socket is left behind */
		tmr_init(&d.t);
		d.until = tmr_jiffies() + 300;
		tmr_start(&d.t, 10, drain_tick, &d.t);
		(void)re_main(NULL);
		tmr_cancel(&d.t);
	}
	tw = mem_deref(tw);
}
