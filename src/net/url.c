/**
 * @file url.c  Provider addresses from the environment (net/url.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net/url.h"

const char *bt_url_env(const char *a, const char *b, const char *def)
{
	const char *v = a ? getenv(a) : NULL;

	if (!v || !*v)
		v = b ? getenv(b) : NULL;
	return v && *v ? v : def;
}

bool bt_url_is_local(const char *url)
{
	const char *h = url ? strstr(url, "://") : NULL;

	if (!url)
		return false;
	h = h ? h + 3 : url;
	return !strncmp(h, "localhost", 9) || !strncmp(h, "127.", 4) ||
	       !strncmp(h, "[::1]", 5);
}

int bt_url_join(char *buf, size_t sz, const char *base, bool ws,
		const char *path)
{
	const char *scheme = "", *rest = base;
	size_t n;
	int m;

	if (ws && !strncmp(base, "http://", 7)) {
		scheme = "ws://";
		rest = base + 7;
	}
	else if (ws && !strncmp(base, "https://", 8)) {
		scheme = "wss://";
		rest = base + 8;
	}
	m = snprintf(buf, sz, "%s%s", scheme, rest);
	if (m < 0 || (size_t)m >= sz)
		return E2BIG;
	n = (size_t)m;
	while (n && buf[n - 1] == '/')
		buf[--n] = '\0';
	m = snprintf(buf + n, sz - n, "%s", path);
	if (m < 0 || (size_t)m >= sz - n)
		return E2BIG;
	return 0;
}
