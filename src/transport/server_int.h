/**
 * @file server_int.h  What server.c (connections, sessions, start and
 *                     stop) shares with server_http.c and server_prep.c.
 *                     Private to src/transport.
 */
#ifndef BT_TRANSPORT_SERVER_INT_H
#define BT_TRANSPORT_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <re.h>
#include "transport/server.h"

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
