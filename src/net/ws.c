/**
 * @file ws.c  WebSocket client connections on the thread's event loop:
 *             RFC 6455 over libre's DNS client, TCP and TLS.
 *
 * libre 1.1 has a WebSocket client (websock_connect, over its HTTP
 * client), but it drops the frames that arrive in the same read as the
 * server's 101 (a server that speaks first, like a Realtime server's
 * session.created, lost its first event under load), reports any refusal
 * as EPROTO without the status or the body, and verifies no server
 * certificate. So the handshake and the framing are done here, over
 * libre's TCP connection with its TLS layer: the bytes after the 101's
 * headers stay in the read buffer and are the first frames.
 *
 * A connection (struct wsc) can outlive its handle (struct bt_ws): a
 * handle freed while open sends its close frame and the connection
 * lingers, in the thread's list, until the server answers it, closes the
 * socket, or LINGER_MS pass. bt_ws_thread_close() waits for those.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <re.h>
#include "banter/json.h"
#include "net/ws.h"
#include "net/ws_int.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static _Thread_local struct wsm *tw;

static void wsm_destructor(void *arg)
{
	struct wsm *m = arg;

	list_flush(&m->linger);
	mem_deref(m->tls);
	mem_deref(m->dnsc);
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
	if (err) {
		mem_deref(m);
		return err;
	}
	tw = m;
	*mp = m;
	return 0;
}

/* libre declares tls_openssl_context() only when built with USE_OPENSSL,
 * which its users' builds do not define */
struct ssl_ctx_st *tls_openssl_context(const struct tls *tls);

static SSL_CTX *tls_get_ctx(struct tls *tls)
{
	return tls_openssl_context(tls);
}

/* The thread's TLS context, made for the first wss:// connection. The
 * trusted roots: SSL_CERT_FILE (OpenSSL's own variable) if set, else the
 * system's bundle. */
static int wsm_tls(struct wsm *m)
{
	const char *ca = getenv("SSL_CERT_FILE");
	int err;

	if (m->tls)
		return 0;
	if (!ca || !*ca)
		ca = "/etc/ssl/certs/ca-certificates.crt";
	err = tls_alloc(&m->tls, TLS_METHOD_SSLV23, NULL, NULL);
	if (err)
		return err;
	if (access(ca, R_OK) == 0)
		(void)tls_add_ca(m->tls, ca);
	/* libre allows one intermediate; public chains may have more */
	SSL_CTX_set_verify_depth(tls_get_ctx(m->tls), 8);
	return 0;
}

static void uncount(struct bt_ws *ws)
{
	if (ws->counted && tw && tw->active)
		--tw->active;
	ws->counted = false;
}

static void wsc_destructor(void *arg)
{
	struct wsc *c = arg;

	tmr_cancel(&c->tmr);
	list_unlink(&c->le);
	mem_deref(c->dq);
	mem_deref(c->sc);
	mem_deref(c->tc);
	mem_deref(c->rx);
	mem_deref(c->frag);
	mem_deref(c->req);
	mem_deref(c->m);
}

/* Drop the sockets (allowed inside their handlers: libre touches the
 * TCP connection no more once its handler returns). */
static void wsc_drop(struct wsc *c)
{
	tmr_cancel(&c->tmr);
	c->st = WS_GONE;
	c->dq = mem_deref(c->dq);
	c->sc = mem_deref(c->sc);
	c->tc = mem_deref(c->tc);
}

/* A lingering connection is done with. */
void linger_end(struct wsc *c)
{
	wsc_drop(c);
	if (c->le.list) {
		list_unlink(&c->le);
		mem_deref(c);  /* the list's reference */
	}
}

/* Tell the handle's owner once, then never again. */
void wsc_fail(struct wsc *c, int err, uint16_t code, const char *msg)
{
	struct bt_ws *ws = c->ws;
	bt_ws_close_h *h;

	if (!ws) {
		linger_end(c);
		return;
	}
	wsc_drop(c);
	h = ws->closeh;
	ws->closeh = NULL;
	ws->recvh = NULL;
	ws->openh = NULL;
	uncount(ws);
	if (h)
		h(err, code, msg, ws->arg);
}

const char *wsc_url(const struct wsc *c)
{
	return c->ws ? c->ws->url : c->host;
}

/* ---- the handshake ---- */

static void refusal_report(struct wsc *c)
{
	const char *url = wsc_url(c);
	size_t n = mbuf_get_left(c->rx);
	char body[BODY_MAX + 1], detail[300] = "", msg[1100];
	json_t *o;

	if (n > BODY_MAX)
		n = BODY_MAX;
	memcpy(body, mbuf_buf(c->rx), n);
	body[n] = '\0';
	o = json_loads(body, 0, NULL);
	if (json_is_object(o)) {
		/* OpenAI's error.message, Deepgram's err_msg, FastAPI's
		 * detail (ElevenLabs) */
		json_t *e = json_object_get(o, "error"), *s = NULL;

		if (json_is_object(e))
			s = json_object_get(e, "message");
		else if (json_is_string(e))
			s = e;
		if (!json_is_string(s))
			s = json_object_get(o, "err_msg");
		if (!json_is_string(s))
			s = json_object_get(o, "message");
		if (!json_is_string(s))
			s = json_object_get(o, "detail");
		if (json_is_object(s))
			s = json_object_get(s, "message");
		if (json_is_string(s))
			snprintf(detail, sizeof(detail), ": %s",
				 json_string_value(s));
	}
	json_decref(o);
	if (!detail[0] && n) {
		/* a text body, on one line */
		for (size_t i = 0; i < n; i++)
			if (body[i] == '\r' || body[i] == '\n')
				body[i] = ' ';
		snprintf(detail, sizeof(detail), ": %.200s", body);
	}
	snprintf(msg, sizeof(msg), "%s refused the WebSocket: HTTP %u %s%s",
		 url, c->scode, c->reason, detail);
	wsc_fail(c, EPROTO, c->scode, msg);
}

static void opened(struct wsc *c)
{
	int fd = tcp_conn_fd(c->tc), one = 1;
	struct bt_ws *ws = c->ws;

	tmr_cancel(&c->tmr);
	c->st = WS_OPEN;
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
	if (ws && ws->openh)
		ws->openh(ws->arg);
}

static bool hdr_is(const struct http_msg *msg, const char *name,
		   const char *want)
{
	const struct http_hdr *h = http_msg_xhdr(msg, name);

	return h && !pl_strcasecmp(&h->val, want);
}

static void handshake(struct wsc *c)
{
	struct http_msg *msg = NULL;
	const struct http_hdr *acc;
	size_t pos = c->rx->pos;
	char m[700];
	int err;

	err = http_msg_decode(&msg, c->rx, false);
	if (err == ENODATA) {
		c->rx->pos = pos;
		if (mbuf_get_left(c->rx) > HDR_MAX) {
			snprintf(m, sizeof(m), "the server at %s answered the "
				 "WebSocket handshake with over %u bytes of "
				 "headers", wsc_url(c), HDR_MAX);
			wsc_fail(c, EPROTO, 0, m);
		}
		return;
	}
	if (err) {
		snprintf(m, sizeof(m), "the server at %s did not answer the "
			 "WebSocket handshake in HTTP (is it a WebSocket "
			 "server? wss:// for TLS)", wsc_url(c));
		wsc_fail(c, EPROTO, 0, m);
		return;
	}
	if (msg->scode != 101) {
		c->scode = msg->scode > 999 ? 999 : (uint16_t)msg->scode;
		snprintf(c->reason, sizeof(c->reason), "%.*s",
			 (int)msg->reason.l, msg->reason.p);
		c->clen = msg->clen;
		mem_deref(msg);
		c->st = WS_REFUSED;
		return;
	}
	acc = http_msg_xhdr(msg, "Sec-WebSocket-Accept");
	if (!hdr_is(msg, "Upgrade", "websocket") || !acc ||
	    pl_strcmp(&acc->val, c->accept)) {
		snprintf(m, sizeof(m), "the server at %s answered 101 but not "
			 "a valid WebSocket upgrade (%s)", wsc_url(c), !acc ?
			 "no Sec-WebSocket-Accept" : "wrong Upgrade or "
			 "Sec-WebSocket-Accept");
		mem_deref(msg);
		wsc_fail(c, EPROTO, 0, m);
		return;
	}
	mem_deref(msg);
	opened(c);
}

static void consume(struct wsc *c)
{
	if (c->st == WS_HANDSHAKE)
		handshake(c);
	if (c->st == WS_REFUSED) {
		size_t want = c->clen > BODY_MAX ? BODY_MAX : c->clen;

		if (mbuf_get_left(c->rx) >= want)
			refusal_report(c);
		return;
	}
	while ((c->st == WS_OPEN || c->st == WS_CLOSING) && ws_frame(c) > 0)
		;
}

/* Bytes read from the socket: after what is left, then used. */
static void rx_add(struct wsc *c, const uint8_t *p, size_t n)
{
	struct mbuf *rx = c->rx;
	size_t left;

	if (c->st == WS_GONE)
		return;
	/* what is left goes to the front, then the new bytes after it */
	left = mbuf_get_left(rx);
	if (rx->pos) {
		memmove(rx->buf, mbuf_buf(rx), left);
		rx->pos = 0;
		rx->end = left;
	}
	rx->pos = rx->end;
	if (mbuf_write_mem(rx, p, n)) {
		wsc_fail(c, ENOMEM, 0, "out of memory reading a WebSocket");
		return;
	}
	rx->pos = 0;
	mem_ref(c);
	consume(c);
	mem_deref(c);
}

static void tcp_recv(struct mbuf *mb, void *arg)
{
	rx_add(arg, mbuf_buf(mb), mbuf_get_left(mb));
}

static void tcp_estab(void *arg)
{
	struct wsc *c = arg;
	int err;

	c->st = WS_HANDSHAKE;
	c->req->pos = 0;
	err = tcp_send(c->tc, c->req);
	c->req = mem_deref(c->req);
	if (err) {
		char m[700];

		snprintf(m, sizeof(m), "cannot send the WebSocket handshake to "
			 "%s: %s", wsc_url(c), strerror(err));
		wsc_fail(c, err, 0, m);
	}
}

static void tcp_close(int err, void *arg)
{
	struct wsc *c = arg;
	const char *url = wsc_url(c);
	char m[900];

	switch (c->st) {

	case WS_REFUSED:
		refusal_report(c);
		return;

	case WS_OPEN:
		if (err)
			snprintf(m, sizeof(m), "the WebSocket to %s broke: %s",
				 url, strerror(err));
		else
			snprintf(m, sizeof(m), "the server at %s closed the "
				 "connection without a close frame", url);
		wsc_fail(c, err, 1006, m);
		return;

	case WS_CLOSING:
		snprintf(m, sizeof(m), "the server at %s closed the "
			 "connection", url);
		wsc_fail(c, 0, 1005, m);
		return;

	case WS_GONE:
		return;

	default:
		break;
	}
	if (err == ECONNREFUSED)
		snprintf(m, sizeof(m), "cannot open a WebSocket to %s: the "
			 "connection was refused (check the URL and that the "
			 "server runs)", url);
	else if (c->secure && c->st == WS_CONNECT)
		snprintf(m, sizeof(m), "cannot open a WebSocket to %s: the TLS "
			 "handshake failed (%s): the server's certificate is "
			 "not trusted or not for this name, or it does not "
			 "speak TLS (a private CA: point SSL_CERT_FILE at it)",
			 url, err ? strerror(err) : "connection closed");
	else if (err)
		snprintf(m, sizeof(m), "cannot open a WebSocket to %s: %s",
			 url, strerror(err));
	else
		snprintf(m, sizeof(m), "the server at %s closed the "
			 "connection before the WebSocket opened", url);
	wsc_fail(c, err ? err : ECONNRESET, 0, m);
}

/* ---- connecting ---- */

static void connect_to(struct wsc *c, const struct sa *sa)
{
	char m[800];
	int err;

	c->st = WS_CONNECT;
	err = tcp_connect(&c->tc, sa, tcp_estab, tcp_recv, tcp_close, c);
	if (!err && c->secure) {
		bool ip = false;
		struct sa tmp;

		ip = sa_set_str(&tmp, c->host, 0) == 0;
		err = tls_start_tcp(&c->sc, c->m->tls, c->tc, 0);
		if (!err && !ip)
			err = tls_set_servername(c->sc, c->host);
		if (!err && c->verify)
			err = tls_set_verify_server(c->sc, c->host);
	}
	if (err) {
		snprintf(m, sizeof(m), "cannot open a WebSocket to %s: %s",
			 wsc_url(c), strerror(err));
		wsc_fail(c, err, 0, m);
	}
}

static bool rr_h(struct dnsrr *rr, void *arg)
{
	struct sa *sa = arg;

	if (rr->type == DNS_TYPE_A)
		sa_set_in(sa, rr->rdata.a.addr, 0);
	else if (rr->type == DNS_TYPE_AAAA)
		sa_set_in6(sa, rr->rdata.aaaa.addr, 0);
	else
		return false;
	return true;
}

static void dns_h(int err, const struct dnshdr *hdr, struct list *ansl,
		  struct list *authl, struct list *addl, void *arg)
{
	struct wsc *c = arg;
	struct sa sa;
	char m[1100];
	(void)hdr;
	(void)authl;
	(void)addl;

	c->dq = mem_deref(c->dq);
	sa_init(&sa, AF_UNSPEC);
	dns_rrlist_apply2(ansl, c->host, DNS_TYPE_A, DNS_TYPE_AAAA,
			  DNS_CLASS_IN, true, rr_h, &sa);
	if (!sa_isset(&sa, SA_ADDR)) {
		snprintf(m, sizeof(m), "cannot open a WebSocket to %s: the "
			 "name %s does not resolve (%s)", wsc_url(c), c->host,
			 err ? strerror(err) : "no address");
		wsc_fail(c, err ? err : EADDRNOTAVAIL, 0, m);
		return;
	}
	sa_set_port(&sa, c->port);
	connect_to(c, &sa);
}

static void timeout_h(void *arg)
{
	struct wsc *c = arg;
	char m[700];

	if (c->st == WS_REFUSED) {
		refusal_report(c);
		return;
	}
	if (c->st == WS_CLOSING) {
		snprintf(m, sizeof(m), "the server at %s did not answer the "
			 "close frame", wsc_url(c));
		wsc_fail(c, ETIMEDOUT, 1006, m);
		return;
	}
	if (!c->ws) {
		linger_end(c);
		return;
	}
	snprintf(m, sizeof(m), "no WebSocket connection to %s within the "
		 "connect timeout", wsc_url(c));
	wsc_fail(c, ETIMEDOUT, 0, m);
}

/* ws[s]://host[:port][/path][?query], http(s):// too; [v6] hosts. */
static int parse_url(struct wsc *c, const char *url, const char **path)
{
	const char *p = url, *h, *e;
	size_t hl;
	unsigned long port;

	if (!strncasecmp(p, "wss://", 6) || !strncasecmp(p, "https://", 8))
		c->secure = true;
	else if (strncasecmp(p, "ws://", 5) && strncasecmp(p, "http://", 7))
		return EINVAL;
	h = strstr(p, "://") + 3;
	if (*h == '[') {
		e = strchr(h, ']');
		if (!e)
			return EINVAL;
		hl = (size_t)(e - h - 1);
		++h;
		e++;
	}
	else {
		e = h + strcspn(h, ":/?");
		hl = (size_t)(e - h);
	}
	if (!hl || hl >= sizeof(c->host))
		return EINVAL;
	memcpy(c->host, h, hl);
	c->host[hl] = '\0';
	port = c->secure ? 443 : 80;
	if (*e == ':') {
		char *end;

		port = strtoul(e + 1, &end, 10);
		if (end == e + 1 || !port || port > 65535)
			return EINVAL;
		e = end;
	}
	if (*e && *e != '/' && *e != '?')
		return EINVAL;
	c->port = (uint16_t)port;
	*path = e;
	return 0;
}

static int make_request(struct wsc *c, const char *path, const char *hdrs)
{
	uint8_t nonce[16], md[EVP_MAX_MD_SIZE];
	char key[32], cat[80], port[8];
	unsigned mdl = 0;
	size_t kl = sizeof(key), al = sizeof(c->accept);
	bool v6 = strchr(c->host, ':') != NULL;
	bool dflt = c->port == (c->secure ? 443 : 80);
	int err;

	rand_bytes(nonce, sizeof(nonce));
	err = base64_encode(nonce, sizeof(nonce), key, &kl);
	if (err)
		return err;
	key[kl] = '\0';
	snprintf(cat, sizeof(cat), "%s%s", key, ws_guid);
	if (!EVP_Digest(cat, strlen(cat), md, &mdl, EVP_sha1(), NULL))
		return EPROTO;
	err = base64_encode(md, mdl, c->accept, &al);
	if (err || al >= sizeof(c->accept))
		return err ? err : E2BIG;
	c->accept[al] = '\0';
	if (dflt)
		port[0] = '\0';
	else
		snprintf(port, sizeof(port), ":%u", c->port);
	c->req = mbuf_alloc(512);
	if (!c->req)
		return ENOMEM;
	return mbuf_printf(c->req, "GET %s%s HTTP/1.1\r\n"
			   "Host: %s%s%s%s\r\n"
			   "Upgrade: websocket\r\n"
			   "Connection: Upgrade\r\n"
			   "Sec-WebSocket-Key: %s\r\n"
			   "Sec-WebSocket-Version: 13\r\n"
			   "%s\r\n",
			   *path == '/' ? "" : "/", path,
			   v6 ? "[" : "", c->host, v6 ? "]" : "", port, key,
			   hdrs ? hdrs : "");
}

static void ws_destructor(void *arg)
{
	struct bt_ws *ws = arg;
	struct wsc *c = ws->c;

	uncount(ws);
	if (!c)
		return;
	c->ws = NULL;
	if (c->tc && (c->st == WS_OPEN || c->st == WS_CLOSING)) {
		/* finish the close handshake without the handle */
		if (c->st == WS_OPEN)
			ws_send_close(c, 1000);
		c->st = WS_CLOSING;
		list_append(&c->m->linger, &c->le, c);  /* takes our ref */
		tmr_start(&c->tmr, LINGER_MS, timeout_h, c);
		return;
	}
	mem_deref(c);
}

/* A handle and its connection, not connecting yet: handlers set, the
 * url for messages (without its query), a read buffer. */
static int ws_new(struct bt_ws **wsp, const char *url, bt_ws_open_h *openh,
		  bt_ws_recv_h *recvh, bt_ws_close_h *closeh, void *arg)
{
	struct bt_ws *ws;
	struct wsc *c;
	struct wsm *m;
	int err;

	err = wsm_get(&m);
	if (err)
		return err;
	ws = mem_zalloc(sizeof(*ws), ws_destructor);
	if (!ws)
		return ENOMEM;
	c = mem_zalloc(sizeof(*c), wsc_destructor);
	if (!c) {
		mem_deref(ws);
		return ENOMEM;
	}
	ws->c = c;
	c->ws = ws;
	c->m = mem_ref(m);
	tmr_init(&c->tmr);
	ws->openh = openh;
	ws->recvh = recvh;
	ws->closeh = closeh;
	ws->arg = arg;
	str_ncpy(ws->url, url, sizeof(ws->url));
	ws->url[strcspn(ws->url, "?")] = '\0';
	c->rx = mbuf_alloc(8192);
	if (!c->rx) {
		mem_deref(ws);
		return ENOMEM;
	}
	*wsp = ws;
	return 0;
}

int bt_ws_connect(struct bt_ws **wsp, const struct bt_ws_prm *prm,
		  bt_ws_open_h *openh, bt_ws_recv_h *recvh,
		  bt_ws_close_h *closeh, void *arg)
{
	const char *path = NULL;
	struct bt_ws *ws;
	struct wsc *c;
	struct sa sa;
	int err;

	if (!wsp || !prm || !prm->url || !recvh || !closeh)
		return EINVAL;
	err = ws_new(&ws, prm->url, openh, recvh, closeh, arg);
	if (err)
		return err;
	c = ws->c;
	c->verify = !prm->insecure;
	err = parse_url(c, prm->url, &path);
	if (!err && c->secure)
		err = wsm_tls(c->m);
	if (!err)
		err = make_request(c, path, prm->headers);
	if (err) {
		mem_deref(ws);
		return err;
	}
	ws->counted = true;
	++c->m->active;
	tmr_start(&c->tmr, prm->connect_timeout_ms ? prm->connect_timeout_ms
		  : CONNECT_TIMEOUT_MS, timeout_h, c);
	/* localhost is not in the DNS; the name stays for TLS */
	if (!sa_set_str(&sa, strcasecmp(c->host, "localhost") ? c->host :
			"127.0.0.1", c->port)) {
		connect_to(c, &sa);
	}
	else {
		c->st = WS_RESOLVE;
		err = dnsc_query(&c->dq, c->m->dnsc, c->host, DNS_TYPE_A,
				 DNS_CLASS_IN, true, dns_h, c);
		if (err) {
			mem_deref(ws);
			return err;
		}
	}
	*wsp = ws;
	return 0;
}

int ws_fuzz_alloc(struct bt_ws **wsp, const char *accept,
		  bt_ws_open_h *openh, bt_ws_recv_h *recvh,
		  bt_ws_close_h *closeh, void *arg)
{
	int err = ws_new(wsp, "ws://fuzz/", openh, recvh, closeh, arg);

	if (err)
		return err;
	str_ncpy((*wsp)->c->accept, accept, sizeof((*wsp)->c->accept));
	(*wsp)->c->st = WS_HANDSHAKE;
	return 0;
}

void ws_fuzz_feed(struct bt_ws *ws, const uint8_t *p, size_t n)
{
	if (ws && ws->c)
		rx_add(ws->c, p, n);
}

int bt_ws_send_text(struct bt_ws *ws, const char *text)
{
	if (!ws || !text)
		return EINVAL;
	if (!bt_ws_is_open(ws))
		return ENOTCONN;
	return ws_send_frame(ws->c, 0x1, text, strlen(text));
}

int bt_ws_send_bin(struct bt_ws *ws, const void *buf, size_t n)
{
	if (!ws || (!buf && n))
		return EINVAL;
	if (!bt_ws_is_open(ws))
		return ENOTCONN;
	return ws_send_frame(ws->c, 0x2, buf, n);
}

int bt_ws_close(struct bt_ws *ws, uint16_t code)
{
	if (!ws)
		return EINVAL;
	if (!bt_ws_is_open(ws))
		return ENOTCONN;
	ws_send_close(ws->c, code ? code : 1000);
	ws->c->st = WS_CLOSING;
	tmr_start(&ws->c->tmr, CLOSE_WAIT_MS, timeout_h, ws->c);
	return 0;
}

bool bt_ws_is_open(const struct bt_ws *ws)
{
	return ws && ws->c && ws->c->st == WS_OPEN;
}

unsigned bt_ws_active(void)
{
	return tw ? tw->active : 0;
}

static void drain_tick(void *arg)
{
	struct tmr *t = arg;
	uint64_t *until = (uint64_t *)(t + 1);

	if (!tw || !tw->linger.head || tmr_jiffies() >= *until) {
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
	if (tw->linger.head) {
		/* let the servers answer our close frames (at most
		 * LINGER_MS), so no socket is left behind */
		tmr_init(&d.t);
		d.until = tmr_jiffies() + LINGER_MS;
		tmr_start(&d.t, 10, drain_tick, &d.t);
		(void)re_main(NULL);
		tmr_cancel(&d.t);
	}
	/* those still waiting hold the thread's set: let them go first */
	list_flush(&tw->linger);
	tw = mem_deref(tw);
}
