/*
 * The WebSocket client (src/net/ws.c) against a server scripted here, on
 * libre's TCP in the same loop, that writes exactly the bytes each case
 * needs:
 * - a server that speaks first: its first frame in the same write as the
 *   101 is received (libre 1.1's own client dropped it: `banter call`
 *   lost session.created under load);
 * - what the client sends is masked, and unmasks to what was sent, in
 *   each of the three length encodings;
 * - a message in fragments is put together; a ping gets its pong; a
 *   close frame from the server is answered and reported with its code;
 * - a refusal is reported with its status and its body's message
 *   (HTTP 401 and Deepgram's err_msg), an answer that is not an upgrade
 *   or has the wrong Sec-WebSocket-Accept is refused, and so is a frame
 *   that breaks the protocol (masked by the server);
 * - bt_ws_close() gets the server's answer; a handle freed while open
 *   still sends its close frame.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <re.h>
#include "banter/banter.h"
#include "net/ws.h"

enum { MAX_MSG = 16 };

/* ---- the scripted server ---- */

enum answer { ANS_OK, ANS_401, ANS_BAD_ACCEPT, ANS_NOT_HTTP };

struct srv {
	struct tcp_sock *ts;
	struct tcp_conn *tc;
	struct mbuf *in;          /* what the client sent */
	bool upgraded;
	enum answer answer;
	const uint8_t *first;     /* frames sent with the 101, in one write */
	size_t first_n;
	/* frames received from the client, unmasked */
	uint8_t ops[MAX_MSG];
	char msgs[MAX_MSG][70000];
	size_t lens[MAX_MSG];
	size_t n;
	bool all_masked;
	bool echo_close;          /* answer a close frame with one */
	uint16_t port;
};

static void accept_of(const char *key, char *out, size_t sz)
{
	char cat[128];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdl = 0;
	size_t ol = sz - 1;

	snprintf(cat, sizeof(cat), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
		 key);
	assert_true(EVP_Digest(cat, strlen(cat), md, &mdl, EVP_sha1(), NULL));
	assert_int_equal(base64_encode(md, mdl, out, &ol), 0);
	out[ol] = '\0';
}

static void srv_send(struct srv *s, const void *p, size_t n)
{
	struct mbuf *mb = mbuf_alloc(n);

	assert_non_null(mb);
	assert_int_equal(mbuf_write_mem(mb, p, n), 0);
	mb->pos = 0;
	assert_int_equal(tcp_send(s->tc, mb), 0);
	mem_deref(mb);
}

static void srv_upgrade(struct srv *s)
{
	const char *req = (const char *)s->in->buf, *k;
	char key[64] = "", acc[64], out[1024];
	int n;

	k = strstr(req, "Sec-WebSocket-Key: ");
	assert_non_null(k);
	sscanf(k + 19, "%63[^\r]", key);
	accept_of(key, acc, sizeof(acc));
	switch (s->answer) {
	case ANS_401: {
		static const char body[] = "{\"err_code\":\"INVALID_AUTH\","
			"\"err_msg\":\"Invalid credentials.\"}";

		n = snprintf(out, sizeof(out), "HTTP/1.1 401 Unauthorized\r\n"
			     "Content-Type: application/json\r\n"
			     "Content-Length: %zu\r\n\r\n%s",
			     sizeof(body) - 1, body);
		srv_send(s, out, (size_t)n);
		return;
	}
	case ANS_NOT_HTTP:
		srv_send(s, "SSH-2.0-OpenSSH_9.2\r\n\r\n", 23);
		return;
	case ANS_BAD_ACCEPT:
		str_ncpy(acc, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", sizeof(acc));
		break;
	case ANS_OK:
		break;
	}
	n = snprintf(out, sizeof(out), "HTTP/1.1 101 Switching Protocols\r\n"
		     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		     "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
	/* the first frames in the same write */
	if (s->first_n)
		memcpy(out + n, s->first, s->first_n);
	srv_send(s, out, (size_t)n + s->first_n);
	s->upgraded = true;
}

/* Client frames in s->in: unmask and keep them. */
static void srv_frames(struct srv *s)
{
	for (;;) {
		uint8_t *p = mbuf_buf(s->in), op;
		size_t left = mbuf_get_left(s->in), hl = 2;
		uint64_t len;

		if (left < 2)
			return;
		op = p[0] & 0x0f;
		len = p[1] & 0x7f;
		if (!(p[1] & 0x80))
			s->all_masked = false;
		if (len == 126) {
			hl = 4;
			len = (uint64_t)p[2] << 8 | p[3];
		}
		else if (len == 127) {
			hl = 10;
			len = 0;
			for (int i = 2; i < 10; i++)
				len = len << 8 | p[i];
		}
		if (left < hl + 4 + len)
			return;
		assert_true(s->n < MAX_MSG && len < sizeof(s->msgs[0]));
		s->ops[s->n] = op;
		for (size_t i = 0; i < len; i++)
			s->msgs[s->n][i] = (char)(p[hl + 4 + i] ^
						  p[hl + (i & 3)]);
		s->lens[s->n] = (size_t)len;
		s->msgs[s->n][len] = '\0';
		s->n++;
		s->in->pos += hl + 4 + (size_t)len;
		if (op == 0x8 && s->echo_close)
			srv_send(s, "\x88\x02\x03\xe8", 4);
	}
}

static void srv_recv(struct mbuf *mb, void *arg)
{
	struct srv *s = arg;
	size_t pos = s->in->pos;

	s->in->pos = s->in->end;
	assert_int_equal(mbuf_write_mem(s->in, mbuf_buf(mb),
					mbuf_get_left(mb)), 0);
	s->in->pos = pos;
	if (!s->upgraded) {
		char *e;

		s->in->pos = s->in->end;
		assert_int_equal(mbuf_write_u8(s->in, 0), 0);
		s->in->end--;
		s->in->pos = pos;
		e = strstr((char *)s->in->buf, "\r\n\r\n");
		if (!e)
			return;
		srv_upgrade(s);
		s->in->pos = (size_t)(e + 4 - (char *)s->in->buf);
		if (!s->upgraded)
			return;
	}
	srv_frames(s);
}

static void srv_close(int err, void *arg)
{
	struct srv *s = arg;
	(void)err;

	s->tc = mem_deref(s->tc);
}

static void srv_conn(const struct sa *peer, void *arg)
{
	struct srv *s = arg;
	(void)peer;

	assert_null(s->tc);
	assert_int_equal(tcp_accept(&s->tc, s->ts, NULL, srv_recv, srv_close,
				    s), 0);
}

static struct srv *srv_start(enum answer a, const void *first, size_t n)
{
	static struct srv s0;
	struct srv *s = &s0;
	struct sa la;

	memset(s, 0, sizeof(*s));
	s->answer = a;
	s->first = first;
	s->first_n = n;
	s->all_masked = true;
	s->echo_close = true;
	s->in = mbuf_alloc(4096);
	assert_non_null(s->in);
	assert_int_equal(sa_set_str(&la, "127.0.0.1", 0), 0);
	assert_int_equal(tcp_listen(&s->ts, &la, srv_conn, s), 0);
	assert_int_equal(tcp_local_get(s->ts, &la), 0);
	s->port = sa_port(&la);
	return s;
}

static void srv_stop(struct srv *s)
{
	s->tc = mem_deref(s->tc);
	s->ts = mem_deref(s->ts);
	s->in = mem_deref(s->in);
}

/* ---- the client's side ---- */

struct cli {
	struct bt_ws *ws;
	bool opened, closed;
	int err;
	uint16_t code;
	char why[1200];
	unsigned n;
	bool text[MAX_MSG];
	char msgs[MAX_MSG][200];
	bool stop_on_msg;   /* the loop stops at the first message */
};

static void c_open(void *arg)
{
	struct cli *c = arg;

	c->opened = true;
}

static void c_recv(bool text, const uint8_t *buf, size_t n, void *arg)
{
	struct cli *c = arg;

	if (c->n < MAX_MSG) {
		c->text[c->n] = text;
		snprintf(c->msgs[c->n], sizeof(c->msgs[0]), "%.*s", (int)n,
			 (const char *)buf);
		c->n++;
	}
	if (c->stop_on_msg)
		re_cancel();
}

static void c_close(int err, uint16_t code, const char *msg, void *arg)
{
	struct cli *c = arg;

	c->closed = true;
	c->err = err;
	c->code = code;
	str_ncpy(c->why, msg, sizeof(c->why));
	re_cancel();
}

static void stop_h(void *arg)
{
	(void)arg;
	re_cancel();
}

/* Run the loop until a handler stops it, or ms pass. */
static void run_for(unsigned ms)
{
	struct tmr t;

	tmr_init(&t);
	tmr_start(&t, ms, stop_h, NULL);
	(void)re_main(NULL);
	tmr_cancel(&t);
}

static void cli_connect(struct cli *c, const struct srv *s)
{
	char url[128];
	struct bt_ws_prm prm = {.url = url,
				.headers = "Authorization: Token k\r\n"};

	memset(c, 0, sizeof(*c));
	snprintf(url, sizeof(url), "ws://127.0.0.1:%u/v1/listen?model=x",
		 s->port);
	assert_int_equal(bt_ws_connect(&c->ws, &prm, c_open, c_recv, c_close,
				       c), 0);
}

/* ---- the cases ---- */

static void test_first_frames_with_the_101(void **state)
{
	/* a text message whole, then one in three fragments, a ping, and a
	 * binary one: all in the 101's write */
	static const uint8_t first[] = {
		0x81, 5, 'h', 'e', 'l', 'l', 'o',
		0x01, 3, 'o', 'n', 'e',
		0x89, 2, 'p', '!',
		0x00, 1, '+',
		0x80, 3, 't', 'w', 'o',
		0x82, 2, 0x00, 0xff,
	};
	struct srv *s = srv_start(ANS_OK, first, sizeof(first));
	struct cli c;
	(void)state;

	cli_connect(&c, s);
	run_for(500);
	assert_true(c.opened);
	assert_false(c.closed);
	assert_int_equal(c.n, 3);
	assert_true(c.text[0]);
	assert_string_equal(c.msgs[0], "hello");
	assert_true(c.text[1]);
	assert_string_equal(c.msgs[1], "one+two");
	assert_false(c.text[2]);
	/* the request carried the path, the query and the extra header */
	assert_non_null(strstr((char *)s->in->buf,
			       "GET /v1/listen?model=x HTTP/1.1\r\n"));
	assert_non_null(strstr((char *)s->in->buf, "Authorization: Token k"));
	/* the ping's pong */
	assert_int_equal(s->n, 1);
	assert_int_equal(s->ops[0], 0xA);
	assert_string_equal(s->msgs[0], "p!");
	mem_deref(c.ws);
	run_for(50);
	srv_stop(s);
}

static void test_sent_frames_are_masked(void **state)
{
	static char big[66000];
	struct srv *s = srv_start(ANS_OK, NULL, 0);
	struct cli c;
	uint8_t bin[300];
	(void)state;

	memset(big, 'x', sizeof(big) - 1);
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)i;
	cli_connect(&c, s);
	assert_int_equal(bt_ws_send_text(c.ws, "early"), ENOTCONN);
	run_for(200);
	assert_true(c.opened);
	assert_int_equal(bt_ws_send_text(c.ws, "{\"type\":\"KeepAlive\"}"), 0);
	assert_int_equal(bt_ws_send_bin(c.ws, bin, sizeof(bin)), 0);
	assert_int_equal(bt_ws_send_text(c.ws, big), 0);
	run_for(300);
	assert_int_equal(s->n, 3);
	assert_true(s->all_masked);
	assert_int_equal(s->ops[0], 0x1);
	assert_string_equal(s->msgs[0], "{\"type\":\"KeepAlive\"}");
	assert_int_equal(s->ops[1], 0x2);
	assert_int_equal(s->lens[1], sizeof(bin));
	assert_memory_equal(s->msgs[1], bin, sizeof(bin));
	assert_int_equal(s->lens[2], sizeof(big) - 1);
	assert_string_equal(s->msgs[2], big);

	/* our close: the server's answer is reported */
	assert_int_equal(bt_ws_close(c.ws, 1000), 0);
	assert_false(bt_ws_is_open(c.ws));
	run_for(1000);
	assert_true(c.closed);
	assert_int_equal(c.err, 0);
	assert_int_equal(c.code, 1000);
	assert_int_equal(s->ops[3], 0x8);
	mem_deref(c.ws);
	srv_stop(s);
}

static void test_server_closes(void **state)
{
	static const uint8_t first[] = {0x81, 2, 'h', 'i',
		0x88, 8, 0x0f, 0xa0, 'b', 'y', 'e', ' ', 'n', 'o'};
	struct srv *s = srv_start(ANS_OK, first, sizeof(first));
	struct cli c;
	(void)state;

	cli_connect(&c, s);
	run_for(1000);
	assert_int_equal(c.n, 1);
	assert_true(c.closed);
	assert_int_equal(c.err, 0);
	assert_int_equal(c.code, 4000);
	assert_non_null(strstr(c.why, "4000: bye no"));
	assert_false(bt_ws_is_open(c.ws));
	assert_int_equal(bt_ws_send_text(c.ws, "late"), ENOTCONN);
	run_for(100);
	/* the close was answered, with its code */
	assert_int_equal(s->n, 1);
	assert_int_equal(s->ops[0], 0x8);
	assert_int_equal((uint8_t)s->msgs[0][0], 0x0f);
	assert_int_equal((uint8_t)s->msgs[0][1], 0xa0);
	mem_deref(c.ws);
	srv_stop(s);
}

static void test_refusals(void **state)
{
	static const struct {
		enum answer a;
		uint16_t code;
		const char *says;
	} cases[] = {
		{ANS_401, 401, "HTTP 401 Unauthorized: Invalid credentials."},
		{ANS_BAD_ACCEPT, 0, "not a valid WebSocket upgrade"},
		{ANS_NOT_HTTP, 0, "did not answer the WebSocket handshake in "
		 "HTTP"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct srv *s = srv_start(cases[i].a, NULL, 0);
		struct cli c;

		cli_connect(&c, s);
		run_for(2000);
		assert_false(c.opened);
		assert_true(c.closed);
		assert_int_equal(c.err, EPROTO);
		assert_int_equal(c.code, cases[i].code);
		if (!strstr(c.why, cases[i].says))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, c.why,
				 cases[i].says);
		/* the address, without its query (it may hold a key) */
		assert_non_null(strstr(c.why, "/v1/listen"));
		assert_null(strstr(c.why, "model=x"));
		mem_deref(c.ws);
		srv_stop(s);
	}
}

static void test_protocol_errors(void **state)
{
	/* a masked frame from the server */
	static const uint8_t first[] = {0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1,
		'i' ^ 2};
	struct srv *s = srv_start(ANS_OK, first, sizeof(first));
	struct cli c;
	(void)state;

	cli_connect(&c, s);
	run_for(1000);
	assert_true(c.opened);
	assert_true(c.closed);
	assert_int_equal(c.err, EPROTO);
	assert_int_equal(c.code, 1002);
	assert_non_null(strstr(c.why, "masked"));
	assert_int_equal(c.n, 0);
	run_for(100);
	assert_int_equal(s->n, 1);  /* our close frame, 1002 */
	assert_int_equal(s->ops[0], 0x8);
	assert_int_equal((uint8_t)s->msgs[0][1], 0xea);
	mem_deref(c.ws);
	srv_stop(s);
}

static void test_freed_open_sends_close(void **state)
{
	struct srv *s = srv_start(ANS_OK, NULL, 0);
	struct cli c;
	(void)state;

	cli_connect(&c, s);
	run_for(200);
	assert_true(c.opened);
	assert_int_equal(bt_ws_active(), 1);
	mem_deref(c.ws);
	assert_int_equal(bt_ws_active(), 0);
	run_for(200);
	assert_false(c.closed);  /* no handler after freeing */
	assert_int_equal(s->n, 1);
	assert_int_equal(s->ops[0], 0x8);
	srv_stop(s);
}

static void test_refused_port(void **state)
{
	struct srv *s = srv_start(ANS_OK, NULL, 0);
	struct cli c;
	uint16_t port = s->port;
	(void)state;

	srv_stop(s);  /* nobody listens there now */
	s->port = port;
	cli_connect(&c, s);
	run_for(2000);
	assert_true(c.closed);
	assert_int_equal(c.err, ECONNREFUSED);
	assert_non_null(strstr(c.why, "refused"));
	mem_deref(c.ws);
}

static void test_bad_urls(void **state)
{
	static const char *bad[] = {"ftp://x/", "ws://", "ws://h:0/",
		"ws://h:99999/", "ws://h:12x/", "ws://[::1/"};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bt_ws_prm prm = {.url = bad[i]};
		struct bt_ws *ws = NULL;
		struct cli c;

		memset(&c, 0, sizeof(c));
		assert_int_equal(bt_ws_connect(&ws, &prm, c_open, c_recv,
					       c_close, &c), EINVAL);
		assert_null(ws);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_frames_with_the_101),
		cmocka_unit_test(test_sent_frames_are_masked),
		cmocka_unit_test(test_server_closes),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_protocol_errors),
		cmocka_unit_test(test_freed_open_sends_close),
		cmocka_unit_test(test_refused_port),
		cmocka_unit_test(test_bad_urls),
	};
	int rc;

	if (libre_init())
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	bt_ws_thread_close();
	libre_close();
	return rc;
}
