/**
 * @file url.h  What the network providers share about their addresses:
 *              where the environment points them, and whether that is
 *              this machine (a local server needs no key).
 *
 * Private to libbanter and its programs.
 */
#ifndef BT_NET_URL_H
#define BT_NET_URL_H

#include <stdbool.h>
#include <stddef.h>

/** The first of the environment variables a, b (b may be NULL) that is
 *  set and not empty, else def. */
const char *bt_url_env(const char *a, const char *b, const char *def);

/** Whether the URL's host is this machine (localhost, 127.x, [::1]). */
bool bt_url_is_local(const char *url);

/**
 * buf = base (its trailing slashes dropped) + path; with ws, an http(s)
 * base becomes ws(s). E2BIG if it does not fit in sz.
 */
int bt_url_join(char *buf, size_t sz, const char *base, bool ws,
		const char *path);

#endif
