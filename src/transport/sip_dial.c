/**
 * @file sip_dial.c  `banter dial`: one outbound call on the main thread's
 *                   libre loop. The agent's session and RTP run on a
 *                   session loop through sip_call.c, as an inbound call's.
 *
 * The call's RTP port is opened first (its loop sends the port back), then
 * the INVITE goes with our SDP offer; the answer in the 200 sets the codec
 * and address, and the ACK starts the greeting. The end (either side's
 * BYE, --max-s, Ctrl-C, a refusal) hangs up, waits for the call's loop to
 * log its RTP summary and for the stack's last transaction (BYE or
 * CANCEL), then reports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banter/banter.h"
#include "transport/sip.h"
#include "transport/sip_int.h"

enum {
	RING_S = 60,            /* default --ring-s */
	CLOSE_WAIT_MS = 5000,   /* for the BYE's answer at the end */
	DIAL_DRAINED = 100,     /* mqueue id: the call's loop is done */
};

struct bt_sip_dial {
	struct bt_sip_dial_prm prm;
	struct sip *sip;
	struct sipsess_sock *sock;
	struct dnsc *dnsc;
	struct mqueue *mq;
	struct bt_mqbox *box;   /* mq, for the call's loop */
	struct sip_link *lk;
	struct sip_cred *cred;
	struct tmr tmr_ring, tmr_max, tmr_close;
	enum bt_codec_id codecs[BT_CODEC_COUNT];
	size_t n_codecs;
	char uri[512];
	char from[512];
	struct sa laddr;         /* ours toward the callee: SIP, RTP, SDP */
	bool responded;          /* a provisional response came */
	bool established, ending, reported, closed, exited;
	int err;
	char why[512];
	bt_sip_dial_end_h *endh;
	void *arg;
};

static void finish(struct bt_sip_dial *d, int err, const char *why);

/* What to do about a final response, by its code. */
static const char *advice(uint16_t scode)
{
	switch (scode) {
	case 401:
	case 407: return "the provider wants credentials: set "
		"BANTER_SIP_PASSWORD (and --sip-auth-user if its user name "
		"is not the From's), or check them";
	case 403: return "the callee or its provider refuses us: check the "
		"credentials and the From (--from)";
	case 404:
	case 604: return "no such user there: check the number or user in "
		"the URI";
	case 408:
	case 480: return "the callee is not reachable now: try again later";
	case 486:
	case 600: return "the callee is busy: try again later";
	case 487: return "the call was cancelled";
	case 488:
	case 606: return "no codec in common: try other --codecs";
	case 603: return "the callee declined the call";
	default:
		if (scode >= 500 && scode < 600)
			return "the callee's server failed: try again later";
		if (scode >= 600)
			return "the callee declines everywhere";
		return "see the callee's reason";
	}
}

static void drained_h(void *arg)
{
	struct bt_mqbox *box = arg;

	/* on the call's loop, after its CALL_HANGUP (messages run in
	 * order): its RTP summary is out. The dial may be gone (a second
	 * Ctrl-C): the box then refuses. */
	if (bt_mqbox_push(box, DIAL_DRAINED, NULL))
		re_printf("banter dial: the call's loop cannot report back\n");
	bt_mqbox_put(box);
}

static void report(struct bt_sip_dial *d)
{
	if (d->reported)
		return;
	d->reported = true;
	tmr_cancel(&d->tmr_close);
	if (d->endh)
		d->endh(d->err, d->why, d->arg);
}

static void close_timeout(void *arg)
{
	/* the last transaction did not end: report anyway */
	report(arg);
}

static void exit_h(void *arg)
{
	struct bt_sip_dial *d = arg;

	d->exited = true;
	report(d);
}

/*
 * The call's loop is done: close the stack once its last request (BYE,
 * CANCEL) is answered. An INVITE nothing answered has nobody to CANCEL
 * to: libre would retransmit it until its 32 s timeout, so drop it.
 */
static void stack_close(struct bt_sip_dial *d)
{
	if (d->closed || d->reported)
		return;
	if (!d->responded && !d->established) {
		report(d);  /* the destructor drops the stack */
		return;
	}
	d->closed = true;
	d->sock = mem_deref(d->sock);
	tmr_start(&d->tmr_close, CLOSE_WAIT_MS, close_timeout, d);
	sip_close(d->sip, false);
}

static void finish(struct bt_sip_dial *d, int err, const char *why)
{
	struct sip_link *lk = d->lk;

	if (d->ending)
		return;
	d->ending = true;
	d->err = err;
	str_ncpy(d->why, why, sizeof(d->why));
	tmr_cancel(&d->tmr_ring);
	tmr_cancel(&d->tmr_max);
	fflush(stdout);
	if (!lk) {
		stack_close(d);
		return;
	}
	/* libre sends BYE (answered) or CANCEL (ringing) */
	lk->sess = mem_deref(lk->sess);
	lk->gone = true;
	d->lk = NULL;
	(void)sip_post_call(lk, CALL_HANGUP, NULL);
	if (bt_loop_call(lk->loop, drained_h, bt_mqbox_ref(d->box))) {
		bt_mqbox_put(d->box);
		stack_close(d);
	}
	sip_link_put(lk);  /* the main thread's */
}

static void ring_timeout(void *arg)
{
	struct bt_sip_dial *d = arg;
	char why[600];

	if (d->responded)
		(void)re_snprintf(why, sizeof(why), "no answer from %s in %u s "
				  "(it rang; give it longer with --ring-s)",
				  d->uri, d->prm.ring_s);
	else
		(void)re_snprintf(why, sizeof(why), "no response from %s in "
				  "%u s: nothing answers SIP there (check the "
				  "host, the port and ;transport=, and that a "
				  "firewall lets SIP through)", d->uri,
				  d->prm.ring_s);
	re_printf("%s: %s: %s\n", d->lk->id, d->responded ? "cancelling" :
		  "giving up", why);
	finish(d, ETIMEDOUT, why);
}

static void max_timeout(void *arg)
{
	struct bt_sip_dial *d = arg;
	char why[80];

	(void)re_snprintf(why, sizeof(why), "the call reached --max-s (%u s)",
			  d->prm.max_s);
	re_printf("%s: hanging up (BYE): %s\n", d->lk->id, why);
	finish(d, 0, why);
}

static void progr_h(const struct sip_msg *msg, void *arg)
{
	struct bt_sip_dial *d = arg;

	d->responded = true;
	if (msg->scode == 180)
		re_printf("%s: ringing\n", d->lk->id);
	else if (msg->scode > 100)
		re_printf("%s: %u %r (early media is not played)\n",
			  d->lk->id, msg->scode, &msg->reason);
	fflush(stdout);
}

static bool offered(const struct bt_sip_dial *d, enum bt_codec_id id)
{
	for (size_t i = 0; i < d->n_codecs; i++)
		if (d->codecs[i] == id)
			return true;
	return false;
}

/* The callee's SDP answer, in its 200. */
static int answer_h(const struct sip_msg *msg, void *arg)
{
	struct bt_sip_dial *d = arg;
	struct sip_link *lk = d->lk;
	struct bt_sdp_offer o;
	struct sip_media m;
	int err;

	err = sip_body_offer(msg, &o);
	if (!err && !offered(d, o.ci->id))
		err = EPROTO;
	if (err) {
		(void)re_snprintf(d->why, sizeof(d->why), "the callee's SDP "
				  "answer is unusable: %s", err == ENODATA ?
				  "there is none" : err == EPROTO ?
				  "a codec banter did not offer" :
				  sip_sdp_errmsg(err));
		return err;
	}
	lk->offer = o;
	sip_media_of(lk, &o, &m);
	re_printf("%s: answered with %s/%u (payload type %d)%s, RTP to %J\n",
		  lk->id, o.ci->name, o.ci->clock_hz, o.pt, o.te_pt >= 0 ?
		  ", with DTMF" : "", &o.addr);
	return sip_post_call(lk, CALL_MEDIA, &m);
}

static void estab_h(const struct sip_msg *msg, void *arg)
{
	struct bt_sip_dial *d = arg;
	(void)msg;

	d->established = true;
	tmr_cancel(&d->tmr_ring);
	if (d->prm.max_s)
		tmr_start(&d->tmr_max, d->prm.max_s * 1000ULL, max_timeout, d);
	re_printf("%s: established\n", d->lk->id);
	fflush(stdout);
	(void)sip_post_call(d->lk, CALL_START, NULL);
}

static void close_h(int err, const struct sip_msg *msg, void *arg)
{
	struct bt_sip_dial *d = arg;
	char why[1024];

	d->lk->sess = mem_deref(d->lk->sess);
	if (d->established && err == ECONNRESET) {
		re_printf("%s: the callee hung up (BYE)\n", d->lk->id);
		finish(d, 0, "the callee hung up");
		return;
	}
	if (d->why[0]) {  /* answer_h said what */
		str_ncpy(why, d->why, sizeof(why));
		err = err ? err : EPROTO;
	}
	else if (msg && msg->scode >= 300) {
		(void)re_snprintf(why, sizeof(why), "%s answered %u %r: %s%s",
				  d->uri, msg->scode, &msg->reason,
				  advice(msg->scode),
				  (msg->scode == 401 || msg->scode == 407) &&
				  d->cred->password ? " (the password was "
				  "refused)" : "");
		err = EPROTO;
	}
	else if (err == ETIMEDOUT) {
		(void)re_snprintf(why, sizeof(why), "no response from %s: "
				  "nothing answers SIP there (check the host, "
				  "the port and ;transport=)", d->uri);
	}
	else if (err == EDESTADDRREQ) {
		(void)re_snprintf(why, sizeof(why), "cannot find where %s is: "
				  "its host name does not resolve (check the "
				  "name and DNS, or give an IP address)",
				  d->uri);
	}
	else if (err == ECONNREFUSED) {
		(void)re_snprintf(why, sizeof(why), "%s refused the connection:"
				  " no SIP server listens there over that "
				  "transport (check the port and ;transport=)",
				  d->uri);
	}
	else if (err) {
		(void)re_snprintf(why, sizeof(why), "cannot reach %s: %m "
				  "(check the host name, DNS and the "
				  "network)", d->uri, err);
	}
	else if (d->established) {
		(void)re_snprintf(why, sizeof(why), "the call closed");
	}
	else {
		(void)re_snprintf(why, sizeof(why), "the call closed before it "
				  "was answered");
		err = EPROTO;
	}
	re_printf("%s: %s\n", d->lk->id, why);
	finish(d, d->established && !err ? 0 : (err ? err : EPROTO), why);
}

/* A new INVITE to us while we call: one call at a time. */
static void conn_h(const struct sip_msg *msg, void *arg)
{
	struct bt_sip_dial *d = arg;

	(void)sip_treply(NULL, d->sip, msg, 486, "Busy Here");
}

static int invite(struct bt_sip_dial *d, uint16_t port)
{
	struct sip_link *lk = d->lk;
	char sdp[2048];
	struct mbuf *mb;
	int n, err;

	sa_set_port(&lk->sdp_addr, port);
	n = bt_sdp_offer_print(sdp, sizeof(sdp), d->codecs, d->n_codecs,
			       &lk->sdp_addr, (uint32_t)(uintptr_t)lk &
			       0x7fffffff, ++lk->sdp_version);
	if (n < 0)
		return ENOMEM;
	mb = mbuf_alloc((size_t)n);
	if (!mb)
		return ENOMEM;
	(void)mbuf_write_mem(mb, (const uint8_t *)sdp, (size_t)n);
	mb->pos = 0;
	err = sipsess_connect(&lk->sess, d->sock, d->uri, NULL, d->from,
			      "banter", NULL, 0, "application/sdp", mb,
			      sip_cred_auth_h, d->cred, true, sip_offer_h,
			      answer_h, progr_h, estab_h, NULL, NULL, close_h,
			      d, SIP_ALLOW_HDR);
	mem_deref(mb);
	return err;
}

static void mq_handler(int id, void *data, void *arg)
{
	struct bt_sip_dial *d = arg;
	struct main_msg *m = data;
	char why[600];
	int err;

	if (id == DIAL_DRAINED) {
		stack_close(d);
		return;
	}
	if (d->ending || m->lk != d->lk)
		goto out;
	switch ((enum main_kind)id) {
	case MAIN_OPENED:
		err = invite(d, m->port);
		if (err) {
			(void)re_snprintf(why, sizeof(why), "cannot call %s: %m"
					  " (check the URI)", d->uri, err);
			re_printf("%s: %s\n", d->lk->id, why);
			finish(d, err, why);
			break;
		}
		tmr_start(&d->tmr_ring, d->prm.ring_s * 1000ULL, ring_timeout,
			  d);
		re_printf("%s: INVITE to %s from %s, RTP port %u\n", d->lk->id,
			  d->uri, d->from, m->port);
		break;
	case MAIN_FAILED:
		(void)re_snprintf(why, sizeof(why), "cannot start the call: %m",
				  m->err);
		finish(d, m->err ? m->err : EIO, why);
		break;
	case MAIN_ENDED:
		/* the agent's last words were sent: hang up (BYE) */
		re_printf("%s: hanging up (BYE)\n", d->lk->id);
		finish(d, 0, "the agent ended the call");
		break;
	case MAIN_TRANSFER:
		/* no REFER on a dialled call yet: the agent hears so */
		re_printf("%s: transfer to %s: not possible on a dialled "
			  "call\n", d->lk->id, m->text);
		sip_post_transfer_result(d->lk, ENOTSUP, "transfer is not "
					 "possible on a dialled call");
		break;
	}
	fflush(stdout);
 out:
	sip_link_put(m->lk);
	free(m);
}

static int codecs_parse(struct bt_sip_dial *d, const char *list)
{
	static const struct {
		const char *name;
		enum bt_codec_id id;
	} names[] = {
		{"opus", BT_CODEC_OPUS}, {"g722", BT_CODEC_G722},
		{"pcmu", BT_CODEC_PCMU}, {"pcma", BT_CODEC_PCMA},
	};
	const char *p = list ? list : "opus,g722,pcmu,pcma";

	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p), k;

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strlen(names[k].name) == n &&
			    !strncasecmp(p, names[k].name, n))
				break;
		if (k == sizeof(names) / sizeof(names[0]) ||
		    offered(d, names[k].id))
			return bt_err(EINVAL, "--codecs takes opus, g722, pcmu "
				      "and pcma, each once, separated by "
				      "commas (got \"%s\")", list);
		d->codecs[d->n_codecs++] = names[k].id;
		p = end ? end + 1 : p + n;
	}
	return d->n_codecs ? 0 : bt_err(EINVAL, "--codecs is empty");
}

/* Our address toward the callee: loopback for a callee on this host. */
static int local_addr(struct bt_sip_dial *d, const struct uri *u)
{
	struct sa host;
	char h[256];

	if (d->prm.addr)
		return sa_set_str(&d->laddr, d->prm.addr, 0) ? EINVAL : 0;
	(void)pl_strcpy(&u->host, h, sizeof(h));
	if (!strcasecmp(h, "localhost") ||
	    (!sa_set_str(&host, h, 0) && sa_is_loopback(&host)))
		return sa_set_str(&d->laddr, !strcasecmp(h, "localhost") ||
				  sa_af(&host) == AF_INET ? "127.0.0.1" :
				  "::1", 0);
	return net_default_source_addr_get(u->af == AF_INET6 ? AF_INET6 :
					   AF_INET, &d->laddr);
}

static int stack_open(struct bt_sip_dial *d)
{
	struct sa nsv[4];
	uint32_t nsn = 4;
	char domain[64] = "";
	int err;

	if (dns_srv_get(domain, sizeof(domain), nsv, &nsn) || !nsn)
		nsn = 0;
	(void)dnsc_alloc(&d->dnsc, NULL, nsv, nsn);
	err = sip_alloc(&d->sip, d->dnsc, 32, 32, 32, "banter", exit_h, d);
	if (!err)
		err = sip_transp_add(d->sip, SIP_TRANSP_UDP, &d->laddr);
	if (!err)
		err = sip_transp_add(d->sip, SIP_TRANSP_TCP, &d->laddr);
	if (err) {
		char a[64];
		(void)re_snprintf(a, sizeof(a), "%j", &d->laddr);
		return bt_err(err, "cannot open SIP on %s: %s (use --addr "
			      "with an address of this host)", a,
			      strerror(err));
	}
	err = sipsess_listen(&d->sock, d->sip, 32, conn_h, d);
	return err ? bt_err(err, "cannot start SIP: %s", strerror(err)) : 0;
}

static void destructor(void *arg)
{
	struct bt_sip_dial *d = arg;

	tmr_cancel(&d->tmr_ring);
	tmr_cancel(&d->tmr_max);
	tmr_cancel(&d->tmr_close);
	if (d->lk) {
		d->lk->sess = mem_deref(d->lk->sess);
		(void)sip_post_call(d->lk, CALL_HANGUP, NULL);
		sip_link_put(d->lk);
	}
	mem_deref(d->sock);
	if (!d->closed) {
		sip_close(d->sip, true);
		mem_deref(d->sip);
	}
	else {
		/* a BYE unanswered: drop it, which ends the stack (exit_h) */
		if (!d->exited)
			sip_close(d->sip, true);
		if (d->exited)
			mem_deref(d->sip);
	}
	mem_deref(d->dnsc);
	bt_mqbox_close(d->box);
	bt_mqbox_put(d->box);
	mem_deref(d->mq);
	mem_deref(d->cred);
}

static int link_open(struct bt_sip_dial *d, const struct uri *u)
{
	struct sip_link *lk = calloc(1, sizeof(*lk));
	const struct bt_codec_info *ci = bt_codec_info(d->codecs[0]);
	struct sip_media m;
	int err;

	if (!lk)
		return ENOMEM;
	atomic_init(&lk->refs, 1);  /* the main thread's */
	str_ncpy(lk->id, "sip-1", sizeof(lk->id));
	lk->mq = bt_mqbox_ref(d->box);
	lk->loop = bt_loop_take();
	lk->agent = d->prm.agent;
	lk->db_path = d->prm.db_path;
	/* whom we call: an LLM agent remembers earlier calls by it */
	(void)pl_strcpy(&u->user, lk->caller_id, sizeof(lk->caller_id));
	lk->rtp_laddr = d->laddr;
	lk->sdp_addr = d->laddr;
	d->lk = lk;
	/* the RTP port first, for the offer; the codec is a guess until
	 * the answer (sip_call.c makes the session again if it was wrong) */
	memset(&m, 0, sizeof(m));
	m.codec = ci->id;
	m.pt = ci->static_pt >= 0 ? ci->static_pt : 96;
	m.te_pt = -1;
	err = sip_post_call(lk, CALL_OPEN, &m);
	return err ? bt_err(err, "cannot reach the event loop") : 0;
}

int bt_sip_dial_alloc(struct bt_sip_dial **dp,
		      const struct bt_sip_dial_prm *prm,
		      bt_sip_dial_end_h *endh, void *arg)
{
	struct bt_sip_dial *d;
	struct uri u;
	struct pl pl;
	int err;

	if (!dp || !prm || !prm->uri || !prm->agent)
		return EINVAL;
	d = mem_zalloc(sizeof(*d), destructor);
	if (!d)
		return ENOMEM;
	d->prm = *prm;
	if (!d->prm.ring_s)
		d->prm.ring_s = RING_S;
	d->endh = endh;
	d->arg = arg;
	tmr_init(&d->tmr_ring);
	tmr_init(&d->tmr_max);
	tmr_init(&d->tmr_close);
	err = codecs_parse(d, prm->codecs);
	if (err)
		goto out;
	str_ncpy(d->uri, prm->uri, sizeof(d->uri));
	pl_set_str(&pl, d->uri);
	if (strlen(prm->uri) >= sizeof(d->uri) || uri_decode(&u, &pl) ||
	    pl_strcasecmp(&u.scheme, "sip") || !u.host.l) {
		err = bt_err(EINVAL, "\"%s\" is not a SIP URI: give "
			     "sip:USER@HOST[:PORT] (e.g. sip:alice@192.0.2.7 "
			     "or sip:100@pbx.example.com;transport=tcp)",
			     prm->uri);
		goto out;
	}
	err = local_addr(d, &u);
	if (err) {
		err = bt_err(EINVAL, "no local address to call %s from: give "
			     "--addr (one of this host's addresses)",
			     prm->uri);
		goto out;
	}
	if (prm->from)
		str_ncpy(d->from, prm->from, sizeof(d->from));
	else
		(void)re_snprintf(d->from, sizeof(d->from), "sip:banter@%j",
				  &d->laddr);
	/* the digest user: given, or the From's user */
	{
		struct uri fu;
		char user[128];

		pl_set_str(&pl, d->from);
		if (uri_decode(&fu, &pl)) {
			err = bt_err(EINVAL, "--from \"%s\" is not a SIP URI "
				     "(give sip:USER@DOMAIN)", d->from);
			goto out;
		}
		(void)pl_strcpy(&fu.user, user, sizeof(user));
		err = sip_cred_alloc(&d->cred, prm->auth_user ?
				     prm->auth_user : user, prm->password);
		if (err)
			goto out;
	}
	err = mqueue_alloc(&d->mq, mq_handler, d);
	if (!err)
		err = bt_mqbox_alloc(&d->box, d->mq);
	if (!err)
		err = stack_open(d);
	if (!err)
		err = link_open(d, &u);
 out:
	if (err)
		mem_deref(d);
	else
		*dp = d;
	return err;
}

void bt_sip_dial_hangup(struct bt_sip_dial *d, const char *why)
{
	char msg[256];

	if (!d || d->ending)
		return;
	(void)re_snprintf(msg, sizeof(msg), "%s (%s)", d->established ?
			  "banter hung up" : "cancelled before the callee "
			  "answered", why);
	if (d->lk)
		re_printf("%s: %s: %s\n", d->lk->id, d->established ?
			  "hanging up (BYE)" : "cancelling", msg);
	finish(d, d->established ? 0 : ECANCELED, msg);
}
