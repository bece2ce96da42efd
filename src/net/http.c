/**
 * @file http.c  HTTP on the event loop: libcurl's multi-socket interface,
 *               its sockets watched by libre's fd_listen and its timeouts
 *               by a libre tmr, one multi handle (and so one connection
 *               cache) per thread.
 *
 * The one subtlety is freeing: libcurl forbids removing a transfer from
 * inside its own callbacks, and a user may drop a request from a handler
 * that libcurl is calling. So the user's handle is a small object; its
 * transfer is marked dead and reaped once the call stack is back outside
 * libcurl (depth 0). Starting one from inside is refused by libcurl too
 * (CURLM_RECURSIVE_API_CALL: a streamed answer's text that starts a
 * voice's request for its first sentence), so such a transfer joins the
 * multi handle from a timer, as soon as the loop is back.
 */
#include <curl/curl.h>
#include <errno.h>
#include <re.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banter/err.h"
#include "net/http.h"
#include "net/ws.h"

#define ERRBODY_MAX 8192
#define CONNECT_TIMEOUT_MS 5000

struct httpm;

struct xfer {
	struct le le;
	struct httpm *m;
	CURL *easy;
	struct curl_slist *hdrs;
	struct bt_http *h;    /* NULL once the user dropped the request */
	bt_http_data_h *datah;
	bt_http_done_h *doneh;
	void *arg;
	long status;
	uint32_t retry_after_s;
	uint32_t timeout_ms;
	struct mbuf *errbody;
	char errbuf[CURL_ERROR_SIZE];
	char url[256];
	int abort_err;
	bool in_multi;
	bool add_later;       /* started inside libcurl: joins from add_tmr */
	bool dead;
};

struct bt_http {
	struct xfer *x;
};

struct sock {
	curl_socket_t fd;
	struct httpm *m;
};

struct httpm {
	CURLM *multi;
	struct tmr tmr;
	struct tmr add_tmr;
	struct list xfers;
	unsigned active;
	int depth;     /* > 0: inside libcurl or a user handler */
	bool pumping;
};

static _Thread_local struct httpm *tm;

static void reap(struct httpm *m);
static void drive(struct httpm *m, curl_socket_t fd, int ev);

/* Out of the multi handle (outside libcurl's callbacks only). */
static void detach(struct xfer *x)
{
	if (x->add_later) {
		x->add_later = false;
		--x->m->active;
		return;
	}
	if (!x->in_multi)
		return;
	curl_multi_remove_handle(x->m->multi, x->easy);
	x->in_multi = false;
	--x->m->active;
}

static void xfer_free(struct xfer *x)
{
	detach(x);
	list_unlink(&x->le);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	mem_deref(x->errbody);
	mem_deref(x);
}

static void reap(struct httpm *m)
{
	struct le *le = m->xfers.head;

	if (m->depth)
		return;
	while (le) {
		struct xfer *x = le->data;

		le = le->next;
		if (x->dead)
			xfer_free(x);
	}
}

static void http_destructor(void *arg)
{
	struct bt_http *h = arg;
	struct xfer *x = h->x;

	if (!x)
		return;
	x->h = NULL;
	x->dead = true;
	reap(x->m);
}

static const char *curl_why(CURLcode rc, const struct xfer *x, char *buf,
			    size_t sz)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(buf, sz, "no complete answer from %.250s within %u ms",
			 x->url, x->timeout_ms);
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		snprintf(buf, sz, "cannot connect to %.250s: %.200s", x->url,
			 x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		break;
	default:
		snprintf(buf, sz, "%.250s: %.200s", x->url,
			 x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		break;
	}
	return buf;
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK: return 0;
	case CURLE_OPERATION_TIMEDOUT: return ETIMEDOUT;
	case CURLE_COULDNT_CONNECT: return ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY: return EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY: return ENOMEM;
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR: return ECONNRESET;
	default: return EPROTO;
	}
}

/* A transfer ended (outside libcurl's callbacks): report it once. */
static void finish(struct xfer *x, CURLcode rc)
{
	struct bt_http_result res;
	char why[512];

	detach(x);
	if (x->dead || !x->doneh)
		return;
	if (!x->status)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	memset(&res, 0, sizeof(res));
	res.status = x->status;
	res.retry_after_s = x->retry_after_s;
	res.body = "";
	if (x->errbody && x->errbody->end) {
		(void)mbuf_write_u8(x->errbody, 0);
		res.body = (const char *)x->errbody->buf;
	}
	if (x->abort_err) {
		res.err = x->abort_err;
		snprintf(why, sizeof(why), "%.250s: the answer could not be "
			 "read (%.100s)", x->url, strerror(x->abort_err));
	}
	else if (rc != CURLE_OK) {
		res.err = curl_errno(rc);
		curl_why(rc, x, why, sizeof(why));
	}
	else if (x->status < 200 || x->status >= 300) {
		snprintf(why, sizeof(why), "%.250s answered HTTP %ld", x->url,
			 x->status);
	}
	else {
		why[0] = '\0';
	}
	res.errmsg = why;
	++x->m->depth;
	x->doneh(&res, x->arg);
	--x->m->depth;
}

static void check_done(struct httpm *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left))) {
		struct xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &x);
		if (x)
			finish(x, msg->data.result);
	}
}

static void drive(struct httpm *m, curl_socket_t fd, int ev)
{
	int running = 0;

	++m->depth;
	curl_multi_socket_action(m->multi, fd, ev, &running);
	check_done(m);
	--m->depth;
	reap(m);
	if (m->pumping && !m->active)
		re_cancel();
}

/* Transfers started inside libcurl's callbacks join now. */
static void add_later_h(void *arg)
{
	struct httpm *m = arg;
	struct le *le = m->xfers.head;

	while (le) {
		struct xfer *x = le->data;

		le = le->next;
		if (!x->add_later || x->dead)
			continue;
		x->add_later = false;
		if (curl_multi_add_handle(m->multi, x->easy) == CURLM_OK) {
			x->in_multi = true;
			continue;
		}
		--m->active;
		finish(x, CURLE_FAILED_INIT);
	}
	reap(m);
}

static void fd_handler(int flags, void *arg)
{
	struct sock *sk = arg;
	int ev = 0;

	if (flags & FD_READ)
		ev |= CURL_CSELECT_IN;
	if (flags & FD_WRITE)
		ev |= CURL_CSELECT_OUT;
	if (flags & FD_EXCEPT)
		ev |= CURL_CSELECT_ERR;
	drive(sk->m, sk->fd, ev);
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp,
		   void *socketp)
{
	struct httpm *m = userp;
	struct sock *sk = socketp;
	int flags = 0;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		fd_close(s);
		mem_deref(sk);
		curl_multi_assign(m->multi, s, NULL);
		return 0;
	}
	if (!sk) {
		sk = mem_zalloc(sizeof(*sk), NULL);
		if (!sk)
			return -1;
		sk->fd = s;
		sk->m = m;
		curl_multi_assign(m->multi, s, sk);
	}
	if (what & CURL_POLL_IN)
		flags |= FD_READ;
	if (what & CURL_POLL_OUT)
		flags |= FD_WRITE;
	return fd_listen(s, flags, fd_handler, sk) ? -1 : 0;
}

static void tmr_handler(void *arg)
{
	drive(arg, CURL_SOCKET_TIMEOUT, 0);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct httpm *m = userp;

	(void)multi;
	if (timeout_ms < 0)
		tmr_cancel(&m->tmr);
	else
		tmr_start(&m->tmr, (uint64_t)timeout_ms, tmr_handler, m);
	return 0;
}

static struct httpm *thread_multi(void)
{
	struct httpm *m;

	if (tm)
		return tm;
	m = mem_zalloc(sizeof(*m), NULL);
	if (!m)
		return NULL;
	m->multi = curl_multi_init();
	if (!m->multi)
		return mem_deref(m);
	tmr_init(&m->tmr);
	tmr_init(&m->add_tmr);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	tm = m;
	return m;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	int err = 0;

	if (x->dead)
		return 0;  /* nobody wants it: abort */
	if (!x->status)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->status < 200 || x->status >= 300) {
		size_t room;

		if (!x->errbody)
			x->errbody = mbuf_alloc(512);
		if (!x->errbody)
			return n;
		room = ERRBODY_MAX - 1 - x->errbody->end;
		if (ERRBODY_MAX - 1 > x->errbody->end)
			(void)mbuf_write_mem(x->errbody, (const uint8_t *)ptr,
					     n < room ? n : room);
		return n;
	}
	if (x->datah) {
		++x->m->depth;
		err = x->datah(ptr, n, x->arg);
		--x->m->depth;
	}
	if (err || x->dead) {
		x->abort_err = err ? err : ECANCELED;
		return 0;
	}
	return n;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nitems;
	static const char ra[] = "retry-after:";

	if (n > sizeof(ra) - 1 && !strncasecmp(buf, ra, sizeof(ra) - 1)) {
		unsigned long v = strtoul(buf + sizeof(ra) - 1, NULL, 10);
		x->retry_after_s = v > 3600 ? 3600 : (uint32_t)v;
	}
	return n;
}

int bt_http_start(struct bt_http **hp, const struct bt_http_prm *prm,
		  bt_http_data_h *datah, bt_http_done_h *doneh, void *arg)
{
	struct httpm *m;
	struct bt_http *h = NULL;
	struct xfer *x = NULL;
	CURLMcode mc;
	int err = 0;

	if (!hp || !prm || !prm->url)
		return EINVAL;
	m = thread_multi();
	if (!m)
		return bt_err(ENOMEM, "cannot start the HTTP client");
	h = mem_zalloc(sizeof(*h), http_destructor);
	x = mem_zalloc(sizeof(*x), NULL);
	if (!h || !x) {
		err = ENOMEM;
		goto out;
	}
	x->m = m;
	x->datah = datah;
	x->doneh = doneh;
	x->arg = arg;
	x->timeout_ms = prm->timeout_ms;
	str_ncpy(x->url, prm->url, sizeof(x->url));
	x->easy = curl_easy_init();
	if (!x->easy) {
		err = ENOMEM;
		goto out;
	}
	for (size_t i = 0; prm->headers && prm->headers[i]; i++) {
		struct curl_slist *l = curl_slist_append(x->hdrs,
							 prm->headers[i]);
		if (!l) {
			err = ENOMEM;
			goto out;
		}
		x->hdrs = l;
	}
	curl_easy_setopt(x->easy, CURLOPT_URL, prm->url);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(prm->connect_timeout_ms ?
				prm->connect_timeout_ms : CONNECT_TIMEOUT_MS));
	if (prm->timeout_ms)
		curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS,
				 (long)prm->timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(x->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (prm->body) {
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)prm->body_len);
		curl_easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS, prm->body);
	}
	if (prm->method && strcmp(prm->method, prm->body ? "POST" : "GET"))
		curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, prm->method);
	list_append(&m->xfers, &x->le, x);
	mc = curl_multi_add_handle(m->multi, x->easy);
	if (mc == CURLM_RECURSIVE_API_CALL) {
		x->add_later = true;
		tmr_start(&m->add_tmr, 0, add_later_h, m);
	}
	else if (mc != CURLM_OK) {
		list_unlink(&x->le);
		err = bt_err(ENOMEM, "cannot start a request to %s: %s",
			     x->url, curl_multi_strerror(mc));
		goto out;
	}
	else {
		x->in_multi = true;
	}
	++m->active;
	x->h = h;
	h->x = x;
	*hp = h;
	return 0;

 out:
	if (x) {
		if (x->easy)
			curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->hdrs);
		mem_deref(x);
	}
	mem_deref(h);
	return err;
}

unsigned bt_http_active(void)
{
	return tm ? tm->active : 0;
}

static void pump_stop(void *arg)
{
	(void)arg;
	re_cancel();
}

bool bt_http_pump(uint32_t max_ms)
{
	struct tmr t;

	if (!tm && !bt_ws_active())
		return false;
	tmr_init(&t);
	tmr_start(&t, max_ms, pump_stop, NULL);
	if (tm)
		tm->pumping = true;
	(void)re_main(NULL);
	if (tm)
		tm->pumping = false;
	tmr_cancel(&t);
	return true;
}

void bt_http_thread_close(void)
{
	struct httpm *m = tm;
	struct le *le;

	if (!m)
		return;
	le = m->xfers.head;
	while (le) {
		struct xfer *x = le->data;

		le = le->next;
		if (x->h)
			x->h->x = NULL;
		xfer_free(x);
	}
	tmr_cancel(&m->tmr);
	tmr_cancel(&m->add_tmr);
	curl_multi_cleanup(m->multi);
	tm = NULL;
	mem_deref(m);
}
