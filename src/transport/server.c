/**
 * @file server.c  `banter serve`: HTTP and WebSocket on the main thread's
 *                 loop, sessions on the event-loop threads.
 *
 * libre 1.1 (Debian 12) cannot share a listening port between loops (no
 * SO_REUSEPORT) nor hand an accepted HTTP connection to another loop, so
 * the sockets live on the main thread's loop and each call's session on
 * one of N session loops. They talk through a shared `link` by messages
 * (libre mqueue): client events one way, batches of server events the
 * other, one batch per 20 ms tick. JSON parsing, base64, resampling and
 * all speech work run on the session loops; the main loop only frames
 * and copies bytes.
 *
 * This file holds the connections (the main loop's side of their links)
 * and the start and stop; server_link.c the session loops' side of the
 * links, server_http.c the HTTP replies, the page's files and /healthz,
 * server_prep.c the TLS file and the loops' warm-up (server_int.h).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "banter/banter.h"
#include "brain/llm_summary.h"
#include "net/loop.h"
#include "store/retention.h"
#include "transport/realtime.h"
#include "transport/server.h"
#include "transport/server_int.h"
#include "transport/sip.h"

enum {
	MAX_TXQ_KB = 512,            /* unsent data before a client that
					does not read is dropped (8 s of
					24 kHz audio) */
	SNDBUF = 32 * 1024,          /* the kernel's share of that: audio
					is real time, deep buffers only hide
					a stalled client */
	KEEPALIVE_MS = 20000,
};

static struct server *the_srv;   /* for the signal handler */

/* ---- main loop side ---- */

static int post_in(struct link *lk, enum in_kind kind, const void *data,
		   size_t len)
{
	struct in_msg *m = malloc(sizeof(*m) + len + 1);
	int err;

	if (!m)
		return ENOMEM;
	m->lk = srv_link_ref(lk);
	m->kind = kind;
	m->len = len;
	if (len)
		memcpy(m->data, data, len);
	m->data[len] = '\0';
	err = bt_loop_call(lk->loop, srv_in_handler, m);
	if (err) {
		srv_link_put(lk);
		free(m);
	}
	return err;
}

static void conn_destructor(void *arg)
{
	struct conn *c = arg;

	list_unlink(&c->le);
	if (c->lk) {
		c->lk->conn = NULL;
		(void)post_in(c->lk, IN_CLOSE, NULL, 0);
		srv_link_put(c->lk);
	}
	mem_deref(c->wc);
}

static void check_stopped(struct server *srv)
{
	if (srv->stopping && !srv->conns.head && (!srv->sip || srv->sip_idle))
		re_cancel();
}

static void conn_close(struct conn *c, uint16_t code, const char *reason)
{
	struct server *srv = c->srv;

	if (code && c->wc)
		(void)websock_close(c->wc, code, "%s", reason);
	mem_deref(c);
	check_stopped(srv);
}

static void ws_recv(const struct websock_hdr *hdr, struct mbuf *mb,
		    void *arg)
{
	struct conn *c = arg;
	size_t n = mbuf_get_left(mb);

	if (hdr->opcode == WEBSOCK_BIN) {
		static const char e[] = "{\"type\":\"error\",\"error\":{\"type\":"
			"\"invalid_request_error\",\"code\":\"invalid_json\","
			"\"message\":\"binary frames are not accepted: send "
			"JSON client events as text\",\"param\":null,"
			"\"event_id\":null}}";
		(void)websock_send(c->wc, WEBSOCK_TEXT, "%s", e);
		return;
	}
	if (hdr->opcode != WEBSOCK_TEXT || !hdr->fin) {
		conn_close(c, WEBSOCK_UNSUPPORTED_DATA, "fragmented messages "
			   "are not supported");
		return;
	}
	if (post_in(c->lk, IN_TEXT, mbuf_buf(mb), n))
		conn_close(c, WEBSOCK_INTERNAL_ERROR, "server overloaded");
}

static void ws_close(int err, void *arg)
{
	struct conn *c = arg;
	(void)err;

	conn_close(c, 0, NULL);
}

static void out_handler(int id, void *data, void *arg)
{
	struct out_msg *m = data;
	struct conn *c = m->lk->conn;
	(void)id;
	(void)arg;

	if (!c)
		goto out;
	if (m->kind == OUT_SEND && m->mb) {
		const char *js;
		size_t n;

		m->mb->pos = 0;
		while (bt_rt_batch_next(m->mb, &js, &n))
			if (websock_send(c->wc, WEBSOCK_TEXT, "%b", js, n))
				break;
		if (tcp_conn_txqsz(websock_tcp(c->wc)) > (size_t)(
			    c->srv->prm->max_send_queue_kb ?
			    c->srv->prm->max_send_queue_kb : MAX_TXQ_KB) *
		    1024) {
			conn_close(c, WEBSOCK_POLICY_VIOLATION, "the client "
				   "does not read its events: closed to "
				   "protect the server");
			goto out;
		}
	}
	else if (m->kind == OUT_CLOSE) {
		c->lk->conn = NULL;
		srv_link_put(c->lk);
		c->lk = NULL;  /* the session loop closes its side itself */
		conn_close(c, m->code ? m->code : 1000, m->reason);
	}
 out:
	mem_deref(m->mb);
	srv_link_put(m->lk);
	free(m);
}

/* ---- HTTP ---- */

static bool key_ok(const struct server *srv, const struct pl *key)
{
	for (size_t i = 0; i < srv->prm->n_keys; i++)
		if (!pl_strcmp(key, srv->prm->api_keys[i]))
			return true;
	return false;
}

static void realtime_upgrade(struct server *srv, struct http_conn *hc,
			     const struct http_msg *msg)
{
	const struct http_hdr *auth, *protos;
	struct pl model, cid, call_id, key = PL_INIT, proto = PL_INIT;
	char caller_id[128];
	struct sip_link *call = NULL;
	struct srv_proto_helper ph;
	struct bt_agent *agent = srv->prm->agents[0];
	struct link *lk;
	struct conn *c;
	int err;

	if (srv->stopping) {
		srv_json_reply(hc, 503, "Service Unavailable", "shutting_down",
			       "the server is shutting down; try again "
			       "shortly");
		return;
	}
	if (atomic_load(&srv->sessions) >= (srv->prm->max_sessions ?
					     srv->prm->max_sessions : 1000)) {
		srv_json_reply(hc, 503, "Service Unavailable",
			       "too_many_sessions", "the server holds as many "
			       "calls as it may (--max-sessions); try again "
			       "later");
		return;
	}
	auth = http_msg_hdr(msg, HTTP_HDR_AUTHORIZATION);
	if (auth)
		(void)re_regex(auth->val.p, auth->val.l, "Bearer[ ]+[^ ]+",
			       NULL, &key);
	protos = http_msg_hdr(msg, HTTP_HDR_SEC_WEBSOCKET_PROTOCOL);
	if (protos) {
		struct srv_proto_scan ps;
		memset(&ps, 0, sizeof(ps));
		(void)http_msg_hdr_apply(msg, true,
					 HTTP_HDR_SEC_WEBSOCKET_PROTOCOL,
					 srv_proto_scan_h, &ps);
		if (!key.l)
			key = ps.key;
		proto = ps.realtime ? ps.realtime_pl : ps.first;
	}
	if (srv->prm->n_keys && !key_ok(srv, &key)) {
		srv_json_reply(hc, 401, "Unauthorized", "invalid_api_key",
			       key.l ? "Incorrect API key provided." :
			       "No API key given: send \"Authorization: Bearer "
			       "KEY\" or the subprotocol "
			       "openai-insecure-api-key.KEY");
		return;
	}
	/* ?model= names an agent by its file's name or its own name; an
	 * OpenAI model name (a client's default) gets the default agent */
	srv_query_param(&msg->prm, "model", &model);
	for (size_t i = 0; model.l && i < srv->prm->n_agents; i++) {
		const char *id = srv->prm->agent_ids ?
			srv->prm->agent_ids[i] : NULL;
		if (!pl_strcmp(&model, bt_agent_name(srv->prm->agents[i])) ||
		    (id && !pl_strcmp(&model, id))) {
			agent = srv->prm->agents[i];
			break;
		}
	}

	/* who calls, for an LLM agent's memory of earlier calls */
	srv_query_param(&msg->prm, "caller_id", &cid);
	err = srv_query_decode(&cid, caller_id, sizeof(caller_id));
	if (err) {
		srv_json_reply(hc, 400, "Bad Request", "invalid_value",
			       err == E2BIG ? "caller_id is too long: at most "
			       "127 bytes once decoded" : "caller_id has a bad "
			       "percent escape or a control character: escape "
			       "each byte as %XX with two hex digits (\"+\" as "
			       "%2B)");
		return;
	}

	/* ?call_id= attaches to a live phone call (a sideband) */
	srv_query_param(&msg->prm, "call_id", &call_id);
	if (call_id.l) {
		call = bt_sip_call_find(srv->sip, call_id.p, call_id.l);
		if (!call) {
			srv_json_reply(hc, 404, "Not Found", "call_not_found",
				       srv->sip ? "no live call has this "
				       "call_id (it ended, or was never "
				       "made): a call's id is in its "
				       "INVITE's log line and in the "
				       "X-Banter-Call-Id header of our "
				       "answer" : "no live call has this "
				       "call_id: this server takes no phone "
				       "calls (--sip-port off)");
			return;
		}
	}

	lk = calloc(1, sizeof(*lk));
	c = mem_zalloc(sizeof(*c), conn_destructor);
	if (!lk || !c) {
		free(lk);
		mem_deref(c);
		if (call)
			bt_sip_call_put(call);
		http_ereply(hc, 500, "Internal Server Error");
		return;
	}
	atomic_init(&lk->refs, 1);  /* the connection's */
	lk->srv = srv;
	lk->call = call;
	lk->loop = call ? bt_sip_call_loop(call) : bt_loop_take();
	lk->took_loop = !call;
	lk->agent = bt_agent_ref(agent);
	lk->conn = c;
	str_ncpy(lk->model, bt_agent_name(agent), sizeof(lk->model));
	str_ncpy(lk->caller_id, caller_id, sizeof(lk->caller_id));
	c->srv = srv;

	memset(&ph, 0, sizeof(ph));
	if (proto.l) {
		(void)re_snprintf(ph.hdr, sizeof(ph.hdr),
				  "Sec-WebSocket-Protocol: %r\r\n", &proto);
		/* above TLS (layer 0 in libre's HTTP server) */
		err = tcp_register_helper(&ph.th, http_conn_tcp(hc), 100, NULL,
					  srv_proto_send, NULL, &ph);
		if (err) {
			srv_link_put(lk);
			c->lk = NULL;
			mem_deref(c);
			http_ereply(hc, 500, "Internal Server Error");
			return;
		}
	}
	{
		int fd = tcp_conn_fd(http_conn_tcp(hc)), sz = SNDBUF;
		if (fd >= 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz,
					 sizeof(sz));
	}
	err = websock_accept(&c->wc, srv->ws, hc, msg, KEEPALIVE_MS, ws_recv,
			     ws_close, c);
	mem_deref(ph.th);
	if (err) {
		srv_link_put(lk);
		c->lk = NULL;
		mem_deref(c);
		srv_json_reply(hc, 400, "Bad Request", "bad_upgrade", "not a "
			       "WebSocket upgrade: connect with a WebSocket "
			       "client to /v1/realtime");
		return;
	}
	c->lk = lk;
	list_append(&srv->conns, &c->le, c);
	atomic_fetch_add(&srv->sessions, 1);
	if (post_in(lk, IN_OPEN, NULL, 0)) {
		atomic_fetch_sub(&srv->sessions, 1);
		conn_close(c, WEBSOCK_INTERNAL_ERROR, "server overloaded");
	}
}

static void http_req(struct http_conn *hc, const struct http_msg *msg,
		     void *arg)
{
	struct server *srv = arg;

	if (!pl_strcmp(&msg->path, "/v1/realtime")) {
		realtime_upgrade(srv, hc, msg);
		return;
	}
	if (pl_strcmp(&msg->met, "GET") && pl_strcmp(&msg->met, "HEAD")) {
		srv_json_reply(hc, 405, "Method Not Allowed",
			       "method_not_allowed", "only GET is served here");
		return;
	}
	if (!pl_strcmp(&msg->path, "/healthz")) {
		srv_healthz(hc, atomic_load(&srv->sessions),
			    bt_sip_calls(srv->sip));
		return;
	}
	srv_serve_file(srv->prm->web_dir, hc, &msg->path);
}

/* ---- start and stop ---- */

static void stop_timeout(void *arg)
{
	struct server *srv = arg;

	/* the deadline passed: close what is left */
	while (srv->conns.head)
		conn_close(srv->conns.head->data, 1001, "server shutting "
			   "down");
	srv->sip = mem_deref(srv->sip);
	re_cancel();
}

static void on_signal(int sig)
{
	struct server *srv = the_srv;
	(void)sig;

	if (!srv)
		return;
	if (++srv->signals > 1) {
		re_cancel();
		return;
	}
	srv->stopping = true;
	srv->http = mem_deref(srv->http);
	srv->https = mem_deref(srv->https);
	for (unsigned i = 0; i < bt_loops_count(); i++) {
		struct link *lk = calloc(1, sizeof(*lk));
		if (!lk)
			continue;
		atomic_init(&lk->refs, 1);
		lk->srv = srv;
		lk->loop = bt_loop_at(i);
		(void)post_in(lk, IN_SHUTDOWN, NULL, 0);
		srv_link_put(lk);
	}
	bt_sip_shutdown(srv->sip);
	tmr_start(&srv->stop_tmr, (srv->prm->goodbye_ms ?
				   srv->prm->goodbye_ms : 8000) + 2000,
		  stop_timeout, srv);
	check_stopped(srv);
}

static void sip_idle(void *arg)
{
	struct server *srv = arg;

	srv->sip_idle = true;
	check_stopped(srv);
}

static int sip_start(struct server *srv)
{
	const struct bt_server_prm *p = srv->prm;
	struct bt_sip_prm sp;

	memset(&sp, 0, sizeof(sp));
	sp.addr = p->addr;
	sp.port = p->sip_port;
	sp.tls_port = p->sip_tls_port;
	sp.tls_pem = srv->tls_path[0] ? srv->tls_path : NULL;
	sp.srtp_require = p->srtp_require;
	sp.allow = p->sip_allow;
	sp.agents = p->agents;
	sp.agent_ids = p->agent_ids;
	sp.n_agents = p->n_agents;
	sp.db_path = p->db_path;
	sp.max_calls = p->max_sessions;
	sp.goodbye_ms = p->goodbye_ms;
	sp.register_uris = p->sip_register;
	sp.n_register = p->n_sip_register;
	sp.auth_user = p->sip_auth_user;
	sp.password = p->sip_password;
	sp.call_webhook = p->call_webhook;
	sp.ring_ms = p->sip_ring_ms;
	return bt_sip_alloc(&srv->sip, &sp, sip_idle, srv);
}

int bt_server_run(const struct bt_server_prm *prm)
{
	struct server srv;
	struct sa laddr;
	struct rlimit rl;
	const char *tls = NULL;
	sigset_t sigs, old_mask;
	int err;

	if (!prm || !prm->n_agents)
		return bt_err(EINVAL, "bt_server_run: no agent");
	memset(&srv, 0, sizeof(srv));
	srv.prm = prm;
	list_init(&srv.conns);
	tmr_init(&srv.stop_tmr);
	/* every call is a socket: allow many */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	(void)fd_setsize(65536);

	bt_stt_pocketsphinx_pool(prm->pool > prm->warm * prm->n_agents ?
				 prm->pool : prm->warm * prm->n_agents);
	/* as many callers of a loop can start speaking at once as it has
	 * warm recognisers, without it making a decoder then */
	bt_stt_pocketsphinx_spare(prm->warm, prm->n_agents);
	/* the loops' threads must not take the stop signals: libre notes a
	 * signal in the loop of the thread that caught it (see main()) */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &sigs, &old_mask);
	err = bt_loops_start(prm->threads);
	if (err) {
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
		return err;
	}
	srv_warm_loops(prm);
	err = mqueue_alloc(&srv.mq, out_handler, &srv);
	if (!err)
		err = websock_alloc(&srv.ws, NULL, NULL);
	if (err)
		goto out;
	err = sa_set_str(&laddr, prm->addr ? prm->addr : "0.0.0.0",
			 prm->http_port ? prm->http_port : 8080);
	if (err) {
		err = bt_err(EINVAL, "bad listen address \"%s\"", prm->addr);
		goto out;
	}
	err = http_listen(&srv.http, &laddr, http_req, &srv);
	if (err) {
		err = bt_err(err, "cannot listen on port %u for HTTP: %s "
			     "(another server there? use --port)",
			     sa_port(&laddr), strerror(err));
		goto out;
	}
	/* one certificate for wss:// and SIP over TLS */
	if (prm->https_port != UINT16_MAX || (prm->sip_port != UINT16_MAX &&
					      prm->sip_tls_port != UINT16_MAX)) {
		err = srv_tls_file(prm, srv.tls_path, sizeof(srv.tls_path),
				   &tls);
		if (err)
			goto out;
	}
	if (prm->https_port != UINT16_MAX) {
		sa_set_port(&laddr, prm->https_port ? prm->https_port : 8443);
		err = https_listen(&srv.https, &laddr, tls, http_req, &srv);
		if (err) {
			err = bt_err(err, "cannot listen on port %u for HTTPS: "
				     "%s (check --cert/--key, or use "
				     "--tls-port)", sa_port(&laddr),
				     strerror(err));
			goto out;
		}
	}
	if (prm->sip_port != UINT16_MAX) {
		err = sip_start(&srv);
		if (err)
			goto out;
	}
	/* the joined copy of --cert and --key is read by now */
	if (prm->cert && srv.tls_path[0]) {
		unlink(srv.tls_path);
		srv.tls_path[0] = '\0';
	}
	err = bt_retention_start(&srv.retention, prm->agents, prm->n_agents);
	if (err)
		goto out;
	the_srv = &srv;
	if (prm->readyh) {
		struct sa a;
		uint16_t hp = 0, sp = 0;
		if (!tcp_sock_local_get(http_sock_tcp(srv.http), &a))
			hp = sa_port(&a);
		if (srv.https &&
		    !tcp_sock_local_get(http_sock_tcp(srv.https), &a))
			sp = sa_port(&a);
		prm->readyh(hp, sp, bt_sip_port(srv.sip),
			    bt_sip_tls_port(srv.sip), prm->arg);
	}
	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
	err = re_main(on_signal);
 out:
	if (prm->cert && srv.tls_path[0])  /* a start that failed */
		unlink(srv.tls_path);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	the_srv = NULL;
	tmr_cancel(&srv.stop_tmr);
	srv.retention = mem_deref(srv.retention);
	while (srv.conns.head)
		mem_deref(srv.conns.head->data);
	/* its calls' last messages go to the loops before they stop */
	srv.sip = mem_deref(srv.sip);
	/* what the calls' LLM agents write of them for the next call: the
	 * tools that outlived their calls first, then the summaries */
	bt_llm_late_wait();
	bt_llm_summaries_wait();
	bt_loops_stop();
	/* messages the loops posted after we stopped reading */
	srv.mq = mem_deref(srv.mq);
	mem_deref(srv.http);
	mem_deref(srv.https);
	mem_deref(srv.ws);
	return err;
}
