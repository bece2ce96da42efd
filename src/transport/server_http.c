/**
 * @file server_http.c  The HTTP side of `banter serve`, on the main
 *                      thread's loop: the browser page's files, JSON error
 *                      replies in the Realtime API's shape, query
 *                      parameters, the WebSocket subprotocol, /healthz.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "banter/banter.h"
#include "net/loop.h"
#include "transport/server_int.h"

enum {
	MAX_FILE = 4 * 1024 * 1024,  /* a static file of the page */
};

static bool pl_has(const struct pl *pl, const char *s)
{
	return pl->l && memmem(pl->p, pl->l, s, strlen(s)) != NULL;
}

static const char *ctype(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot)
		return "application/octet-stream";
	if (!strcmp(dot, ".html"))
		return "text/html; charset=utf-8";
	if (!strcmp(dot, ".js") || !strcmp(dot, ".mjs"))
		return "text/javascript; charset=utf-8";
	if (!strcmp(dot, ".css"))
		return "text/css; charset=utf-8";
	if (!strcmp(dot, ".json"))
		return "application/json";
	if (!strcmp(dot, ".svg"))
		return "image/svg+xml";
	return "application/octet-stream";
}

void srv_json_reply(struct http_conn *hc, uint16_t code,
		    const char *reason, const char *errcode,
		    const char *message)
{
	json_t *o = json_object(), *e = json_object();
	char *js;

	json_object_set_new(e, "type", json_string("invalid_request_error"));
	json_object_set_new(e, "code", json_string(errcode));
	json_object_set_new(e, "message", json_string(message));
	json_object_set_new(o, "error", e);
	js = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	(void)http_creply(hc, code, reason, "application/json", "%s",
			  js ? js : "{}");
	free(js);
}

void srv_serve_file(const char *web_dir, struct http_conn *hc,
		    const struct pl *path)
{
	char rel[256], full[768];
	struct stat st;
	FILE *f;
	char *buf;
	size_t n;

	if (pl_strcmp(path, "/") == 0)
		str_ncpy(rel, "index.html", sizeof(rel));
	else if (path->l >= sizeof(rel) || pl_has(path, "..") ||
		 path->l < 2)
		goto notfound;
	else
		(void)re_snprintf(rel, sizeof(rel), "%b", path->p + 1,
				  path->l - 1);
	for (const char *p = rel; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("._-/", *p)))
			goto notfound;
	snprintf(full, sizeof(full), "%s/%s",
		 web_dir ? web_dir : "web", rel);
	if (stat(full, &st) || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE)
		goto notfound;
	f = fopen(full, "rb");
	if (!f)
		goto notfound;
	buf = malloc((size_t)st.st_size + 1);
	n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	if (!buf) {
		http_ereply(hc, 500, "Internal Server Error");
		return;
	}
	(void)http_reply(hc, 200, "OK", "Content-Type: %s\r\n"
			 "Content-Length: %zu\r\nCache-Control: no-cache\r\n"
			 "\r\n%b", ctype(rel), n, buf, n);
	free(buf);
	return;
 notfound:
	srv_json_reply(hc, 404, "Not Found", "not_found", "no such page: the "
		       "browser client is at / and the Realtime API at "
		       "/v1/realtime");
}

/* A query parameter's value, or an empty pl. */
void srv_query_param(const struct pl *prm, const char *name,
		     struct pl *val)
{
	char pat[64];

	pl_set_str(val, "");
	snprintf(pat, sizeof(pat), "[?&]*%s=[^&]+", name);
	(void)re_regex(prm->p, prm->l, pat, NULL, val);
}

/*
 * A query value percent-decoded (RFC 3986: "+" stays "+", so an E.164
 * number may come as %2B15551234567 or +15551234567). libre's
 * uri_param_unescape is not used: it refuses characters a query may
 * hold ("@", "="), reads "%zz" as a byte and decodes a short escape at
 * the end. EINVAL: a bad escape or a control character; E2BIG: too long.
 */
int srv_query_decode(const struct pl *v, char *out, size_t sz)
{
	size_t o = 0;

	for (size_t i = 0; i < v->l; i++) {
		unsigned char c = (unsigned char)v->p[i];

		if (c == '%') {
			if (i + 2 >= v->l || !isxdigit((unsigned char)
			    v->p[i + 1]) || !isxdigit((unsigned char)
			    v->p[i + 2]))
				return EINVAL;
			c = (unsigned char)(ch_hex(v->p[i + 1]) << 4 |
					    ch_hex(v->p[i + 2]));
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return EINVAL;
		if (o + 1 >= sz)
			return E2BIG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* The chosen subprotocol into libre's 101 response (srv_proto_helper). */
bool srv_proto_send(int *err, struct mbuf *mb, void *arg)
{
	struct srv_proto_helper *ph = arg;
	size_t pos = mb->pos, len = mbuf_get_left(mb);
	const char *p = (const char *)mbuf_buf(mb);
	const char *end;
	char *copy;

	if (ph->done)
		return false;
	ph->done = true;
	end = memmem(p, len, "\r\n\r\n", 4);
	if (!end || strncmp(p, "HTTP/1.1 101", 12))
		return false;
	copy = malloc(len);
	if (!copy)
		return false;
	memcpy(copy, p, len);
	{
		size_t head = (size_t)(end - p) + 2;
		mb->pos = pos;
		mb->end = pos;
		*err = mbuf_write_mem(mb, (uint8_t *)copy, head);
		*err |= mbuf_write_str(mb, ph->hdr);
		*err |= mbuf_write_mem(mb, (uint8_t *)copy + head, len - head);
		mb->pos = pos;
	}
	free(copy);
	return false;
}

/* One offered subprotocol (srv_proto_scan). */
bool srv_proto_scan_h(const struct http_hdr *hdr, void *arg)
{
	static const char pfx[] = "openai-insecure-api-key.";
	struct srv_proto_scan *ps = arg;
	struct pl v = hdr->val;

	while (v.l && (v.p[0] == ' ' || v.p[0] == ',')) {
		++v.p;
		--v.l;
	}
	while (v.l && (v.p[v.l - 1] == ' ' || v.p[v.l - 1] == ','))
		--v.l;
	if (!v.l)
		return false;
	if (!ps->first.l)
		ps->first = v;
	if (!pl_strcmp(&v, "realtime")) {
		ps->realtime = true;
		ps->realtime_pl = v;
	}
	if (v.l > sizeof(pfx) - 1 && !memcmp(v.p, pfx, sizeof(pfx) - 1)) {
		ps->key.p = v.p + sizeof(pfx) - 1;
		ps->key.l = v.l - (sizeof(pfx) - 1);
	}
	return false;
}

/* GET /healthz: the server's calls, its loops' load and recognisers. */
void srv_healthz(struct http_conn *hc, unsigned sessions, unsigned sip_calls)
{
	uint32_t lag = 0, late = 0, late95 = 0;
	unsigned made = 0, reused = 0, idle = 0;
	char per[768] = "";  /* up to 64 loops */
	size_t pos = 0;

	/* the most frames a loop was late by: > 1 means overload;
	 * and each loop's calls, which should stay even */
	for (unsigned i = 0; i < bt_loops_count(); i++) {
		int k;

		if (bt_loop_max_lag_frames(bt_loop_at(i)) > lag)
			lag = bt_loop_max_lag_frames(bt_loop_at(i));
		if (bt_loop_max_late_ms(bt_loop_at(i)) > late)
			late = bt_loop_max_late_ms(bt_loop_at(i));
		if (bt_loop_late_pct_ms(bt_loop_at(i), 95) > late95)
			late95 = bt_loop_late_pct_ms(bt_loop_at(i), 95);
		k = snprintf(per + pos, sizeof(per) - pos, "%s%u",
			     i ? "," : "",
			     bt_loop_calls(bt_loop_at(i)));
		if (k < 0 || (size_t)k >= sizeof(per) - pos)
			break;  /* more loops than the line shows */
		pos += (size_t)k;
	}
	bt_stt_pocketsphinx_stats(&made, &reused, &idle);
	(void)http_creply(hc, 200, "OK", "application/json",
			  "{\"status\":\"ok\",\"sessions\":%u,"
			  "\"sip_calls\":%u,"
			  "\"loops\":%u,\"loop_calls\":[%s],"
			  "\"max_lag_frames\":%u,\"max_late_ms\":%u,"
			  "\"late_p95_ms\":%u,"
			  "\"recognisers\":{\"made\":%u,"
			  "\"reused\":%u,\"idle\":%u}}",
			  sessions,
			  sip_calls,
			  bt_loops_count(), per, lag, late, late95, made,
			  reused, idle);
}
