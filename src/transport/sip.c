/**
 * @file sip.c  The SIP side of a phone call, on the main thread's loop:
 *              libre's SIP stack and sessions (INVITE, ACK, BYE, CANCEL,
 *              OPTIONS, re-INVITE) over UDP, TCP and TLS, the source
 *              allow-list, picking the agent by the Request-URI's user
 *              part, and SDP offer/answer with SRTP keys (SDES).
 *
 * libre 1.1 cannot share a port between loops (see server.c), so the
 * stack lives here; each call's session and its RTP socket live on a
 * session loop (sip_call.c), joined by a refcounted link.
 *
 * An INVITE is answered 180 at once while the call's session and RTP port
 * are made on its loop; the 200 with the SDP answer follows (a CANCEL in
 * between gets 487). ACK starts the agent's greeting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "banter/banter.h"
#include "json.h"
#include "net/http.h"
#include "transport/sip.h"
#include "transport/sip_int.h"

enum {
	MAX_ALLOW = 32,
	HASH_SIZE = 256,
};

/* libre's reply functions take the rest of the message after their own
 * headers: with extra headers, the Content-Length and the blank line too
 * (sipsess_accept and sipsess_answer add their own) */
#define CODECS_WARNING "Warning: 399 banter \"no codec in common: banter " \
	"takes opus/48000/2, G722/8000, PCMU/8000 and PCMA/8000\"\r\n"
#define SRTP_WARNING "Warning: 399 banter \"SRTP: banter takes a=crypto " \
	"lines with an inline key and a suite among AES_CM_128_HMAC_SHA1_80, " \
	"AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80/32 and " \
	"AEAD_AES_128/256_GCM\"\r\n"
#define SRTP_REQUIRED_WARNING "Warning: 399 banter \"this line takes " \
	"only SRTP calls: offer RTP/SAVP with a=crypto\"\r\n"

struct cidr {
	struct sa net;
	unsigned bits;
};

struct bt_sip {
	struct bt_sip_prm prm;
	struct sip *sip;
	struct tls *tls;             /* SIP over TLS; NULL: none */
	struct sipsess_sock *sock;
	struct sip_lsnr *lsnr;
	struct dnsc *dnsc;
	struct mqueue *mq;
	struct bt_mqbox *box;        /* mq, for the calls' loops */
	struct sip_regs *regs;       /* --sip-register, or NULL */
	struct list calls;           /* sip_link, ringing or answered */
	struct list hooks;           /* call webhooks in flight */
	struct cidr allow[MAX_ALLOW];
	size_t n_allow;
	uint16_t port, tls_port;
	unsigned next_id;
	bool stopping, closed, exited;
	bt_sip_idle_h *idleh;
	void *arg;
};

/* ---- the allow-list ---- */

static int allow_parse(struct bt_sip *s, const char *list)
{
	const char *p = list;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char buf[64], *slash;
		struct cidr *c;
		unsigned max;

		if (!n || n >= sizeof(buf) || s->n_allow == MAX_ALLOW)
			goto bad;
		memcpy(buf, p, n);
		buf[n] = '\0';
		c = &s->allow[s->n_allow];
		slash = strchr(buf, '/');
		if (slash)
			*slash = '\0';
		if (sa_set_str(&c->net, buf, 0))
			goto bad;
		max = sa_af(&c->net) == AF_INET ? 32 : 128;
		c->bits = max;
		if (slash) {
			char *e;
			unsigned long b = strtoul(slash + 1, &e, 10);
			if (!slash[1] || *e || b > max)
				goto bad;
			c->bits = (unsigned)b;
		}
		++s->n_allow;
		p = end ? end + 1 : NULL;
	}
	return 0;
 bad:
	return bt_err(EINVAL, "--sip-allow takes networks as CIDR, separated "
		      "by commas (e.g. 10.0.0.0/8,192.168.1.20), at most %d "
		      "(got \"%s\")", MAX_ALLOW, list);
}

static bool allowed(const struct bt_sip *s, const struct sa *src)
{
	if (!s->n_allow)
		return true;
	for (size_t i = 0; i < s->n_allow; i++) {
		const struct cidr *c = &s->allow[i];
		const uint8_t *a, *b;
		unsigned bits = c->bits, k;

		if (sa_af(src) != sa_af(&c->net))
			continue;
		if (sa_af(src) == AF_INET) {
			a = (const uint8_t *)&src->u.in.sin_addr;
			b = (const uint8_t *)&c->net.u.in.sin_addr;
		}
		else {
			a = (const uint8_t *)&src->u.in6.sin6_addr;
			b = (const uint8_t *)&c->net.u.in6.sin6_addr;
		}
		for (k = 0; bits >= 8; k++, bits -= 8)
			if (a[k] != b[k])
				break;
		if (bits >= 8)
			continue;
		if (!bits || !((a[k] ^ b[k]) & (0xff00 >> bits)))
			return true;
	}
	return false;
}

/* ---- calls ---- */

/*
 * No call left after shutdown: close the stack gently. libre drops our
 * reference and calls exit_h when the last BYE transaction is done (then
 * the stack is ours again, to free).
 */
static void stack_close(struct bt_sip *s)
{
	if (s->closed)
		return;
	s->closed = true;
	s->lsnr = mem_deref(s->lsnr);
	s->sock = mem_deref(s->sock);
	sip_close(s->sip, false);
}

static void link_gone(struct sip_link *lk)
{
	struct bt_sip *s = lk->sip;

	if (lk->gone)
		return;
	lk->gone = true;
	tmr_cancel(&lk->ring);
	lk->refer = mem_deref(lk->refer);
	list_unlink(&lk->le);
	(void)sip_post_call(lk, CALL_HANGUP, NULL);
	sip_link_put(lk);  /* the main thread's */
	if (s->stopping && !s->calls.head)
		stack_close(s);
}

static int answer_h(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return 0;
}

static void estab_h(const struct sip_msg *msg, void *arg)
{
	struct sip_link *lk = arg;
	(void)msg;

	re_printf("%s: established\n", lk->id);
	fflush(stdout);
	(void)sip_post_call(lk, CALL_START, NULL);
}

static void close_h(int err, const struct sip_msg *msg, void *arg)
{
	struct sip_link *lk = arg;

	/* libre reports the caller's BYE and CANCEL as ECONNRESET */
	if (err == ECONNRESET && !lk->answered)
		re_printf("%s: cancelled by the caller (487)\n", lk->id);
	else if (err == ECONNRESET)
		re_printf("%s: the caller hung up (BYE)\n", lk->id);
	else if (err)
		re_printf("%s: closed: %s\n", lk->id, strerror(err));
	else if (msg)
		re_printf("%s: closed: %u %r\n", lk->id, msg->scode,
			  &msg->reason);
	else
		re_printf("%s: closed\n", lk->id);
	fflush(stdout);
	lk->sess = mem_deref(lk->sess);
	link_gone(lk);
}

/* The 200 with our SDP answer: the call's session is ready (and, with
 * --sip-ring-ms, it has rung long enough). */
static void answer(struct sip_link *lk)
{
	struct mbuf *mb = NULL;
	int err = sip_answer_mb(lk, &mb);

	if (!err)
		err = sipsess_answer(lk->sess, 200, "OK", mb,
				     SIP_ALLOW_HDR "X-Banter-Call-Id: "
				     "%s\r\n", lk->call_id);
	mem_deref(mb);
	if (err) {
		re_printf("%s: cannot answer: %s\n", lk->id, strerror(err));
		(void)sipsess_reject(lk->sess, 500, "Server Error", NULL);
		lk->sess = mem_deref(lk->sess);
		link_gone(lk);
		return;
	}
	lk->answered = true;
	re_printf("%s: answered with %s/%u (payload type %d), RTP port %u, "
		  "after %llu ms ringing\n", lk->id, lk->offer.ci->name,
		  lk->offer.ci->clock_hz, lk->offer.pt, sa_port(&lk->sdp_addr),
		  (unsigned long long)(tmr_jiffies() - lk->invite_ms));
}

static void ring_h(void *arg)
{
	struct sip_link *lk = arg;

	if (!lk->gone)
		answer(lk);
	fflush(stdout);
}

static void mq_handler(int id, void *data, void *arg)
{
	struct main_msg *m = data;
	struct sip_link *lk = m->lk;
	uint64_t rang;
	(void)arg;

	if (lk->gone)
		goto out;
	switch ((enum main_kind)id) {
	case MAIN_OPENED:
		sa_set_port(&lk->sdp_addr, m->port);
		rang = tmr_jiffies() - lk->invite_ms;
		if (rang < lk->sip->prm.ring_ms)
			tmr_start(&lk->ring, lk->sip->prm.ring_ms - rang,
				  ring_h, lk);
		else
			answer(lk);
		break;
	case MAIN_FAILED:
		(void)sipsess_reject(lk->sess, 503, "Service Unavailable",
				     "Retry-After: 10\r\n"
				     "Content-Length: 0\r\n\r\n");
		lk->sess = mem_deref(lk->sess);
		link_gone(lk);
		break;
	case MAIN_ENDED:
		/* the agent's last words were sent: hang up (BYE) */
		re_printf("%s: hanging up (BYE)\n", lk->id);
		if (!lk->answered)
			(void)sipsess_reject(lk->sess, 480,
					     "Temporarily Unavailable", NULL);
		lk->sess = mem_deref(lk->sess);
		link_gone(lk);
		break;
	case MAIN_TRANSFER:
		sip_refer_start(lk, lk->sip->sip, m->text);
		break;
	}
	fflush(stdout);
 out:
	sip_link_put(lk);
	free(m);
}

static struct bt_agent *pick_agent(const struct bt_sip *s,
				   const struct pl *user)
{
	for (size_t i = 0; user->l && i < s->prm.n_agents; i++) {
		const char *id = s->prm.agent_ids ? s->prm.agent_ids[i] : NULL;
		if (!pl_strcmp(user, bt_agent_name(s->prm.agents[i])) ||
		    (id && !pl_strcmp(user, id)))
			return s->prm.agents[i];
	}
	/* "agent", no user, or a line with one agent: the default */
	if (!user->l || !pl_strcmp(user, "agent") || s->prm.n_agents == 1)
		return s->prm.agents[0];
	return NULL;
}

/* ---- the call webhook (OpenAI's realtime.call.incoming) ---- */

struct hook {
	struct le le;
	struct bt_http *h;
	char id[24];
};

static void hook_destructor(void *arg)
{
	struct hook *k = arg;

	list_unlink(&k->le);
	mem_deref(k->h);
}

static void hook_done(const struct bt_http_result *res, void *arg)
{
	struct hook *k = arg;

	if (res->err || res->status < 200 || res->status > 299) {
		re_printf("%s: the call webhook failed: %s (the call goes on)"
			  "\n", k->id, res->errmsg && res->errmsg[0] ?
			  res->errmsg : "no answer");
		fflush(stdout);
	}
	mem_deref(k);
}

static void hook_header(json_t *a, const char *name, const struct pl *v)
{
	char buf[512];

	if (!pl_isset(v) || !v->l)
		return;
	(void)pl_strcpy(v, buf, sizeof(buf));
	json_array_append_new(a, json_pack("{s:s,s:s}", "name", name,
					   "value", buf));
}

/*
 * The event OpenAI's SIP interface posts for a call, with our call_id,
 * so that an application learns which call to attach a sideband to. Not
 * signed (no secret to sign with): keep the receiver private.
 */
static void hook_post(struct bt_sip *s, const struct sip_link *lk,
		      const struct sip_msg *msg)
{
	static const char *const hdrs[] = {"Content-Type: application/json",
					   NULL};
	json_t *ev, *sh = json_array();
	struct bt_http_prm hp;
	struct hook *k;
	char evid[48];
	char *body;
	int err;

	hook_header(sh, "From", &msg->from.val);
	hook_header(sh, "To", &msg->to.val);
	hook_header(sh, "Call-ID", &msg->callid);
	(void)re_snprintf(evid, sizeof(evid), "evt_%016llx",
			  (unsigned long long)rand_u64());
	ev = json_pack("{s:s,s:s,s:I,s:s,s:{s:s,s:o}}", "object", "event",
		       "id", evid, "created_at", (json_int_t)time(NULL),
		       "type", "realtime.call.incoming", "data", "call_id",
		       lk->call_id, "sip_headers", sh);
	body = ev ? json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(ev);
	k = body ? mem_zalloc(sizeof(*k), hook_destructor) : NULL;
	if (!k) {
		free(body);
		return;
	}
	str_ncpy(k->id, lk->id, sizeof(k->id));
	memset(&hp, 0, sizeof(hp));
	hp.url = s->prm.call_webhook;
	hp.headers = hdrs;
	hp.body = body;
	hp.body_len = strlen(body);
	hp.timeout_ms = 10000;
	err = bt_http_start(&k->h, &hp, NULL, hook_done, k);
	free(body);
	if (err) {
		re_printf("%s: cannot post the call webhook: %s\n", lk->id,
			  bt_errmsg());
		mem_deref(k);
		return;
	}
	list_append(&s->hooks, &k->le, k);
}

static void conn_h(const struct sip_msg *msg, void *arg)
{
	struct bt_sip *s = arg;
	struct bt_sdp_offer o;
	struct bt_agent *agent;
	struct sip_media m;
	struct sip_link *lk;
	char id[24];
	int err;

	snprintf(id, sizeof(id), "sip-%u", ++s->next_id);
	if (s->stopping) {
		(void)sip_treplyf(NULL, NULL, s->sip, msg, false, 503,
				  "Service Unavailable", "Retry-After: 60\r\n"
				  "Content-Length: 0\r\n\r\n");
		return;
	}
	if (list_count(&s->calls) >= (s->prm.max_calls ? s->prm.max_calls :
				      1000)) {
		re_printf("%s: refused (503): as many calls as allowed\n", id);
		(void)sip_treplyf(NULL, NULL, s->sip, msg, false, 503,
				  "Service Unavailable", "Retry-After: 5\r\n"
				  "Content-Length: 0\r\n\r\n");
		return;
	}
	agent = pick_agent(s, &msg->uri.user);
	if (!agent) {
		re_printf("%s: refused (404): no agent \"%r\"\n", id,
		       &msg->uri.user);
		(void)sip_treply(NULL, s->sip, msg, 404, "Not Found");
		return;
	}
	err = sip_body_offer(msg, &o);
	if (!err && s->prm.srtp_require && !o.crypto.key_len)
		err = EPERM;
	if (err) {
		uint16_t code = err == EBADMSG ? 400 : 488;
		re_printf("%s: refused (%u): %s\n", id, code,
		       err == ENODATA ? "an INVITE without an SDP offer" :
		       err == EPERM ? "plain RTP, and --srtp require" :
		       sip_sdp_errmsg(err));
		(void)sip_treplyf(NULL, NULL, s->sip, msg, false, code,
				  code == 400 ? "Bad Request" :
				  "Not Acceptable Here", "%s"
				  "Content-Length: 0\r\n\r\n",
				  err == ENOTSUP ? CODECS_WARNING :
				  err == EKEYREJECTED ? SRTP_WARNING :
				  err == EPERM ? SRTP_REQUIRED_WARNING : "");
		fflush(stdout);
		return;
	}

	lk = calloc(1, sizeof(*lk));
	if (!lk) {
		(void)sip_treply(NULL, s->sip, msg, 500, "Server Error");
		return;
	}
	atomic_init(&lk->refs, 1);  /* the main thread's */
	str_ncpy(lk->id, id, sizeof(lk->id));
	/* unguessable: it lets a Realtime client watch and steer the call */
	(void)re_snprintf(lk->call_id, sizeof(lk->call_id), "rtc_%016llx%016llx",
			  (unsigned long long)rand_u64(),
			  (unsigned long long)rand_u64());
	lk->sip = s;
	lk->mq = bt_mqbox_ref(s->box);
	lk->loop = bt_loop_take();
	lk->agent = agent;  /* the server's agents outlive every call */
	lk->db_path = s->prm.db_path;
	/* who calls: an LLM agent remembers earlier calls by it */
	(void)re_snprintf(lk->caller_id, sizeof(lk->caller_id), "%r",
			  &msg->from.uri.user);
	lk->goodbye_ms = s->prm.goodbye_ms;
	lk->offer = o;
	if (o.crypto.key_len)
		rand_bytes(lk->srtp_key, sizeof(lk->srtp_key));
	/* a transfer's Referred-By, and the domain a number is dialled on */
	(void)re_snprintf(lk->local_uri, sizeof(lk->local_uri), "<%r>",
			  &msg->to.auri);
	(void)re_snprintf(lk->peer_host, sizeof(lk->peer_host), "%r",
			  &msg->from.uri.host);
	/* RTP on the listen address; the SDP names the address the INVITE
	 * came to (a wildcard listen address is no address to send to) */
	(void)sa_set_str(&lk->rtp_laddr, s->prm.addr ? s->prm.addr :
			 "0.0.0.0", 0);
	lk->sdp_addr = msg->dst;
	if (!sa_isset(&lk->sdp_addr, SA_ADDR))
		(void)net_default_source_addr_get(AF_INET, &lk->sdp_addr);

	lk->invite_ms = tmr_jiffies();
	err = sipsess_accept(&lk->sess, s->sock, msg, 180, "Ringing",
			     "agent",
			     "application/sdp", NULL, NULL, NULL, false,
			     sip_offer_h, answer_h, estab_h, NULL, NULL,
			     close_h, lk, SIP_ALLOW_HDR "X-Banter-Call-Id: %s\r\n",
			     lk->call_id);
	if (err) {
		re_printf("%s: cannot accept: %s\n", id, strerror(err));
		(void)sip_treply(NULL, s->sip, msg, 500, "Server Error");
		sip_link_put(lk);
		return;
	}
	list_append(&s->calls, &lk->le, lk);
	re_printf("%s: INVITE from %J for \"%s\": offer %s/%u first shared "
	       "(payload type %d)%s\n", id, &msg->src, bt_agent_name(agent),
	       o.ci->name, o.ci->clock_hz, o.pt, o.te_pt >= 0 ?
	       ", with DTMF" : "");
	re_printf("%s: transport %s, %s%s\n", id, sip_transp_name(msg->tp),
		  o.crypto.key_len ? "SRTP " : "plain RTP",
		  o.crypto.key_len ? bt_sdp_suite_name(o.crypto.suite) : "");
	re_printf("%s: call_id %s (a Realtime client watches the call at "
		  "/v1/realtime?call_id=%s)\n", id, lk->call_id, lk->call_id);
	if (s->prm.call_webhook)
		hook_post(s, lk, msg);
	fflush(stdout);
	sip_media_of(lk, &o, &m);
	if (sip_post_call(lk, CALL_OPEN, &m)) {
		(void)sipsess_reject(lk->sess, 503, "Service Unavailable",
				     "Retry-After: 5\r\n"
				     "Content-Length: 0\r\n\r\n");
		lk->sess = mem_deref(lk->sess);
		link_gone(lk);
	}
}

struct sip_link *bt_sip_call_find(struct bt_sip *s, const char *id,
				  size_t len)
{
	if (!s || !id || !len)
		return NULL;
	for (struct le *le = s->calls.head; le; le = le->next) {
		struct sip_link *lk = le->data;

		if (!lk->gone && strlen(lk->call_id) == len &&
		    !memcmp(lk->call_id, id, len))
			return sip_link_ref(lk);
	}
	return NULL;
}

void bt_sip_call_put(struct sip_link *lk)
{
	sip_link_put(lk);
}

struct bt_loop *bt_sip_call_loop(const struct sip_link *lk)
{
	return lk->loop;
}

/* Before libre's session layer: the allow-list and OPTIONS. */
static bool request_h(const struct sip_msg *msg, void *arg)
{
	struct bt_sip *s = arg;

	if (!allowed(s, &msg->src)) {
		if (!pl_strcmp(&msg->met, "ACK"))
			return true;
		re_printf("sip: refused %r from %J (403): not in --sip-allow\n",
		       &msg->met, &msg->src);
		fflush(stdout);
		(void)sip_reply(s->sip, msg, 403, "Forbidden");
		return true;
	}
	if (!pl_strcmp(&msg->met, "NOTIFY"))
		return sip_refer_notify(s->sip, &s->calls, msg);
	if (!pl_strcmp(&msg->met, "OPTIONS")) {
		(void)sip_treplyf(NULL, NULL, s->sip, msg, false, 200, "OK",
				  SIP_ALLOW_HDR "Accept: application/sdp\r\n"
				  "Content-Length: 0\r\n\r\n");
		return true;
	}
	return false;
}

static void exit_h(void *arg)
{
	struct bt_sip *s = arg;

	s->exited = true;
	if (s->idleh)
		s->idleh(s->arg);
}

/* UDP and TCP on laddr's port, TLS on the TLS port; *tlsp: TLS failed */
static int transports(struct bt_sip *s, const struct sa *laddr, bool *tlsp)
{
	struct sa tls = *laddr;
	int err = sip_transp_add(s->sip, SIP_TRANSP_UDP, laddr);

	if (!err)
		err = sip_transp_add(s->sip, SIP_TRANSP_TCP, laddr);
	if (err || !s->tls)
		return err;
	sa_set_port(&tls, s->prm.tls_port ? s->prm.tls_port : 5061);
	err = sip_transp_add(s->sip, SIP_TRANSP_TLS, &tls, s->tls);
	*tlsp = err != 0;
	return err;
}

static void destructor(void *arg)
{
	struct bt_sip *s = arg;

	list_flush(&s->hooks);
	mem_deref(s->regs);
	/* calls still here: drop them (shutdown did not finish) */
	while (s->calls.head) {
		struct sip_link *lk = s->calls.head->data;
		lk->sess = mem_deref(lk->sess);
		link_gone(lk);
	}
	mem_deref(s->lsnr);
	mem_deref(s->sock);
	if (!s->closed) {
		sip_close(s->sip, true);
		mem_deref(s->sip);
	}
	else if (s->exited) {
		mem_deref(s->sip);
	}
	/* else: closed but a transaction still holds the stack (a forced
	 * stop): libre frees it with that transaction */
	mem_deref(s->tls);
	mem_deref(s->dnsc);
	/* a loop still posting (a forced stop) is refused from here on */
	bt_mqbox_close(s->box);
	bt_mqbox_put(s->box);
	mem_deref(s->mq);
}

int bt_sip_alloc(struct bt_sip **sp, const struct bt_sip_prm *prm,
		 bt_sip_idle_h *idleh, void *arg)
{
	struct sa nsv[4], laddr;
	uint32_t nsn = 4;
	char domain[64] = "";
	bool tls_failed = false;
	struct bt_sip *s;
	int err;

	if (!sp || !prm || !prm->n_agents)
		return EINVAL;
	s = mem_zalloc(sizeof(*s), destructor);
	if (!s)
		return ENOMEM;
	s->prm = *prm;
	s->idleh = idleh;
	s->arg = arg;
	list_init(&s->calls);
	err = allow_parse(s, prm->allow);
	if (err)
		goto out;
	err = mqueue_alloc(&s->mq, mq_handler, s);
	if (!err)
		err = bt_mqbox_alloc(&s->box, s->mq);
	if (err)
		goto out;
	if (prm->tls_pem && prm->tls_port != UINT16_MAX) {
		err = tls_alloc(&s->tls, TLS_METHOD_SSLV23, prm->tls_pem,
				NULL);
		if (err) {
			err = bt_err(err, "cannot use the TLS certificate "
				     "for SIP over TLS: %s (give --cert and "
				     "--key as PEM files of a certificate and "
				     "its private key, or --no-sip-tls)",
				     strerror(err));
			goto out;
		}
	}
	/* names in Via or Contact need DNS; most phones send addresses */
	if (dns_srv_get(domain, sizeof(domain), nsv, &nsn) || !nsn)
		nsn = 0;
	(void)dnsc_alloc(&s->dnsc, NULL, nsv, nsn);
	err = sip_alloc(&s->sip, s->dnsc, 32, 32, 32, "banter", exit_h, s);
	if (err)
		goto out;
	err = sa_set_str(&laddr, prm->addr ? prm->addr : "0.0.0.0",
			 prm->port ? prm->port : 5060);
	if (err) {
		err = bt_err(EINVAL, "bad listen address \"%s\"", prm->addr);
		goto out;
	}
	if (sa_isset(&laddr, SA_ADDR)) {
		err = transports(s, &laddr, &tls_failed);
	}
	else {
		/* libre's SIP needs an address per transport: the address
		 * this host reaches others from, and loopback. That one
		 * first: libre 1.1 sends each request it starts (REGISTER,
		 * our BYE) from the address family's first transport,
		 * whatever the destination, and loopback reaches no one
		 * else */
		struct sa def;
		if (!net_default_source_addr_get(AF_INET, &def) &&
		    !sa_is_loopback(&def)) {
			sa_set_port(&def, sa_port(&laddr));
			err = transports(s, &def, &tls_failed);
		}
		(void)sa_set_str(&def, "127.0.0.1", sa_port(&laddr));
		if (!err)
			err = transports(s, &def, &tls_failed);
	}
	if (err && tls_failed) {
		err = bt_err(err, "cannot listen on port %u for SIP over "
			     "TLS: %s (another SIP server there? use "
			     "--sip-tls-port, or --no-sip-tls)",
			     prm->tls_port ? prm->tls_port : 5061,
			     strerror(err));
		goto out;
	}
	if (err) {
		err = bt_err(err, "cannot listen on port %u for SIP: %s "
			     "(another SIP server there? use --sip-port, or "
			     "--no-sip)", sa_port(&laddr), strerror(err));
		goto out;
	}
	if (!sip_transp_laddr(s->sip, &laddr, SIP_TRANSP_UDP, NULL))
		s->port = sa_port(&laddr);
	if (s->tls && !sip_transp_laddr(s->sip, &laddr, SIP_TRANSP_TLS, NULL))
		s->tls_port = sa_port(&laddr);
	err = sip_listen(&s->lsnr, s->sip, true, request_h, s);
	if (!err)
		err = sipsess_listen(&s->sock, s->sip, HASH_SIZE, conn_h, s);
	if (err) {
		err = bt_err(err, "cannot start SIP: %s", strerror(err));
		goto out;
	}
	if (prm->n_register)
		err = sip_regs_alloc(&s->regs, s->sip, prm);
 out:
	if (err)
		mem_deref(s);
	else
		*sp = s;
	return err;
}

uint16_t bt_sip_port(const struct bt_sip *s)
{
	return s ? s->port : 0;
}

uint16_t bt_sip_tls_port(const struct bt_sip *s)
{
	return s ? s->tls_port : 0;
}

unsigned bt_sip_calls(const struct bt_sip *s)
{
	return s ? list_count(&s->calls) : 0;
}

void bt_sip_shutdown(struct bt_sip *s)
{
	struct le *le;

	if (!s || s->stopping)
		return;
	s->stopping = true;
	s->regs = mem_deref(s->regs);  /* unregisters */
	le = s->calls.head;
	while (le) {
		struct sip_link *lk = le->data;
		le = le->next;
		if (lk->answered) {
			(void)sip_post_call(lk, CALL_SHUTDOWN, NULL);
			continue;
		}
		(void)sipsess_reject(lk->sess, 503, "Service Unavailable",
				     "Retry-After: 60\r\n"
				     "Content-Length: 0\r\n\r\n");
		lk->sess = mem_deref(lk->sess);
		link_gone(lk);
	}
	if (!s->calls.head)
		stack_close(s);
}
