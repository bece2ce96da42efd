/**
 * @file ws.h  WebSocket client connections on the calling thread's event
 *             loop (RFC 6455 over libre's TCP and TLS: ws:// and wss://),
 *             for the network recognisers and voices and `banter call`.
 *
 * Each thread has its own DNS client and TLS context, made on first use
 * and freed by bt_ws_thread_close(). wss:// verifies the server's
 * certificate and name against the system's roots, or SSL_CERT_FILE's
 * when that is set. Every handler runs
 * on the thread that connected, inside its re_main (a loop thread) or
 * inside bt_http_pump() (the simulator).
 *
 * Private to libbanter and its programs.
 */
#ifndef BT_NET_WS_H
#define BT_NET_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_ws;

/** The connection is open (the server answered 101). */
typedef void (bt_ws_open_h)(void *arg);
/** A whole message: text (JSON) or binary. */
typedef void (bt_ws_recv_h)(bool text, const uint8_t *buf, size_t n,
			    void *arg);
/**
 * The connection is gone: err 0 for a close frame from the server (code
 * holds its status; 1005 for none), or the answer to bt_ws_close();
 * otherwise why: EPROTO with code the HTTP status when the server refused
 * the handshake (401, 503...), EPROTO with code 0 for an answer that is
 * not a WebSocket, ETIMEDOUT, or the socket's error. msg says it in words,
 * with a refusal's message from its body. Called once; not after freeing
 * the handle.
 */
typedef void (bt_ws_close_h)(int err, uint16_t code, const char *msg,
			     void *arg);

struct bt_ws_prm {
	const char *url;            /**< ws://, wss:// (http(s):// too) */
	const char *headers;        /**< extra "Name: value\r\n" lines, or
					 NULL */
	uint32_t connect_timeout_ms;/**< until open; 0: 5000 */
	bool insecure;              /**< wss://: accept any certificate */
};

/**
 * Connect on this thread. Freeing *wsp (mem_deref) closes the socket
 * without running any handler.
 */
int bt_ws_connect(struct bt_ws **wsp, const struct bt_ws_prm *prm,
		  bt_ws_open_h *openh, bt_ws_recv_h *recvh,
		  bt_ws_close_h *closeh, void *arg);

/** Send a message (ENOTCONN until open or after close). */
int bt_ws_send_text(struct bt_ws *ws, const char *text);
int bt_ws_send_bin(struct bt_ws *ws, const void *buf, size_t n);
bool bt_ws_is_open(const struct bt_ws *ws);

/**
 * Start the close handshake: a close frame with code (0: 1000); closeh
 * is called when the server answers it, closes the socket, or has not
 * answered within a second. Freeing an open handle closes it too, with
 * no handler called (the connection lingers until the server answers).
 */
int bt_ws_close(struct bt_ws *ws, uint16_t code);

/** Connections open or opening on this thread. */
unsigned bt_ws_active(void);

/** Free this thread's clients (before the thread exits). */
void bt_ws_thread_close(void);

#endif
