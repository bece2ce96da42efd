/**
 * @file http.h  HTTP requests on the calling thread's event loop: libcurl's
 *               multi interface driven by libre (fd_listen, tmr), so a
 *               request never blocks the loop and its body streams in as
 *               it arrives (server-sent events).
 *
 * Each thread has its own set of transfers and its own connection cache:
 * a second request to the same host reuses the kept-alive connection (no
 * new TCP or TLS handshake per turn). Everything here runs on the thread
 * that started the request, inside its re_main (a loop thread) or inside
 * bt_http_pump() (a thread with no running loop: the simulator).
 *
 * Private to libbanter and its programs.
 */
#ifndef BT_NET_HTTP_H
#define BT_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_http;

struct bt_http_prm {
	const char *method;          /**< "POST" (default) or "GET" */
	const char *url;
	const char *const *headers;  /**< "Name: value" strings, NULL-ended */
	const char *body;            /**< request body (copied), may be NULL */
	size_t body_len;
	uint32_t connect_timeout_ms; /**< 0: 5000 */
	uint32_t timeout_ms;         /**< whole transfer; 0: none */
};

/**
 * Body bytes of a 2xx response, in order, as they arrive. Return 0 to go
 * on; anything else aborts the transfer (donehh then reports that error).
 */
typedef int (bt_http_data_h)(const char *buf, size_t n, void *arg);

struct bt_http_result {
	int err;               /**< 0: the transfer completed */
	long status;           /**< HTTP status (0: no response) */
	uint32_t retry_after_s; /**< a 429/503's Retry-After (0: none) */
	const char *body;      /**< a non-2xx response's body (at most 8 KB)
				    or "" */
	const char *errmsg;    /**< what failed: "connection refused",
				    "timed out after 3000 ms", "HTTP 500" */
};
/** The request is over (called once, unless it was freed before). */
typedef void (bt_http_done_h)(const struct bt_http_result *res, void *arg);

/**
 * Start a request on this thread. Freeing *hp (mem_deref) cancels it:
 * no handler runs after that, even from inside a handler.
 */
int bt_http_start(struct bt_http **hp, const struct bt_http_prm *prm,
		  bt_http_data_h *datah, bt_http_done_h *doneh, void *arg);

/** Requests in flight on this thread. */
unsigned bt_http_active(void);

/**
 * Run this thread's transfers and timers for up to max_ms of wall time
 * (returns early when the last transfer ends; at once if this thread
 * never made a request). For a thread that has no running re_main;
 * libre_init() must have been called on it. False: this thread has
 * nothing to run (it never made a request).
 */
bool bt_http_pump(uint32_t max_ms);

/** Free this thread's transfers and connection cache (thread exit). */
void bt_http_thread_close(void);

#endif
