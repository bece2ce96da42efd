/**
 * @file server_int.h  What server.c (connections, start and stop)
 *                     shares with server_link.c (the session loops'
 *                     side), server_http.c and server_prep.c. Private to
 *                     src/transport.
 */
#ifndef BT_TRANSPORT_SERVER_INT_H
#define BT_TRANSPORT_SERVER_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <re.h>
#include "net/loop.h"
#include "transport/server.h"

struct server;
struct bt_rt;
struct bt_agent;
struct bt_sip;
struct bt_retention;
struct sip_link;

/* What the two threads share for one connection. */
struct link {
	atomic_int refs;
	struct server *srv;
	struct bt_loop *loop;
	bool took_loop;          /* loop from bt_loop_take: release it */
	struct conn *conn;        /* main thread only; NULL once closed */
	struct bt_rt *rt;         /* session loop only */
	struct bt_tick flush_tick;/* session loop: sends the tick's batch */
	struct mbuf *out;         /* session loop: events not yet posted */
	struct le le;             /* session loop: its loop's links */
	struct bt_agent *agent;
	char model[64];
	char caller_id[128];     /* ?caller_id= */
	struct sip_link *call;    /* ?call_id=: a sideband on this phone
				     call (referenced), on its loop */
	bool rt_closed;           /* session loop only */
};

struct conn {
	struct le le;
	struct websock_conn *wc;
	struct link *lk;
	struct server *srv;
};

enum in_kind { IN_OPEN, IN_TEXT, IN_CLOSE, IN_SHUTDOWN };
enum out_kind { OUT_SEND, OUT_CLOSE, OUT_GONE };

struct in_msg {
	struct link *lk;
	enum in_kind kind;
	size_t len;
	char data[];
};

struct out_msg {
	struct link *lk;
	enum out_kind kind;
	uint16_t code;
	struct mbuf *mb;
	char reason[96];
};

struct server {
	const struct bt_server_prm *prm;
	struct http_sock *http, *https;
	struct websock *ws;
	struct mqueue *mq;
	struct list conns;
	atomic_uint sessions;
	struct bt_sip *sip;        /* the phone line, or NULL */
	struct bt_retention *retention; /* old recordings go */
	bool sip_idle;             /* its calls ended after shutdown */
	bool stopping;
	struct tmr stop_tmr;
	unsigned signals;
	char tls_path[512];
};

/* server_link.c: the links' references (either thread), and a client
 * event into its session (bt_loop_call on the session loop; takes m) */
struct link *srv_link_ref(struct link *lk);
void srv_link_put(struct link *lk);
void srv_in_handler(void *arg);

/* Inserts the chosen subprotocol into libre's 101 response (libre 1.1's
 * websock_accept cannot, and a browser that offered one requires it). */
struct srv_proto_helper {
	struct tcp_helper *th;
	char hdr[128];
	bool done;
};

/* The offered subprotocols (libre gives each comma-separated value as a
 * header of its own): "realtime" and the browser's way to send a key. */
struct srv_proto_scan {
	struct pl key, first, realtime_pl;
	bool realtime;
};

/* server_http.c */
void srv_json_reply(struct http_conn *hc, uint16_t code,
		    const char *reason, const char *errcode,
		    const char *message);
void srv_serve_file(const char *web_dir, struct http_conn *hc,
		    const struct pl *path);
/* a query parameter's value, or an empty pl */
void srv_query_param(const struct pl *prm, const char *name,
		     struct pl *val);
/* percent-decoded; EINVAL: a bad escape or a control character; E2BIG */
int srv_query_decode(const struct pl *v, char *out, size_t sz);
bool srv_proto_send(int *err, struct mbuf *mb, void *arg);
bool srv_proto_scan_h(const struct http_hdr *hdr, void *arg);
void srv_healthz(struct http_conn *hc, unsigned sessions, unsigned sip_calls);

/* server_prep.c: the one PEM file libre's TLS takes (into path) */
int srv_tls_file(const struct bt_server_prm *p, char *path, size_t sz,
		 const char **pathp);
/* each loop makes prm->warm sessions of each agent and ends them, which
 * leaves their recognisers in its pool; returns when all are done */
void srv_warm_loops(const struct bt_server_prm *prm);

#endif
