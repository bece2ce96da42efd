/**
 * @file sse.h  A server-sent events (text/event-stream) parser, as the
 *              WHATWG HTML standard defines the stream: lines ending in
 *              CRLF, LF or CR, "event:" and "data:" fields (several data
 *              lines joined by "\n"), ":" comments, a blank line ending
 *              an event. Bytes may arrive cut anywhere.
 *
 * Private to libbanter.
 */
#ifndef BT_NET_SSE_H
#define BT_NET_SSE_H

#include <stddef.h>

struct bt_sse;

/**
 * One event: its type ("" when the stream gave none, which the standard
 * calls "message") and its data, NUL-terminated. Return 0 to go on;
 * anything else stops the feed and is returned by bt_sse_feed.
 */
typedef int (bt_sse_event_h)(const char *event, const char *data,
			     size_t len, void *arg);

/** max_bytes bounds one event's data (0: 1 MiB); beyond it: EMSGSIZE. */
int bt_sse_alloc(struct bt_sse **sp, size_t max_bytes, bt_sse_event_h *h,
		 void *arg);

/** Feed bytes as they arrive. */
int bt_sse_feed(struct bt_sse *s, const char *buf, size_t n);

/** Bytes held of an event not yet ended by a blank line. */
size_t bt_sse_pending(const struct bt_sse *s);

#endif
