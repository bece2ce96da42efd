/**
 * @file sip_refer.c  A blind transfer (RFC 3515) of a phone call, on the
 *                    main thread's loop: REFER in the call's dialog, then
 *                    the transferee's progress in NOTIFYs (RFC 3420
 *                    sipfrag), and the outcome back to the call's loop.
 *
 * libre's sipevent_drefer would send an unsubscribing SUBSCRIBE when we
 * stop listening before the far end ends the subscription (a PBX that
 * never sends the final NOTIFY); a transfer needs only the REFER's answer
 * and the sipfrag's status line, so the request goes out with
 * sip_drequestf and NOTIFYs are matched to the call by their dialog.
 *
 * 202 and then a sipfrag 2xx: transferred, the session ends and the call
 * hangs up. A 2xx REFER answer with no final NOTIFY within NOTIFY_WAIT_MS
 * counts as transferred too (the PBX has taken the call; a blind
 * transferor does not wait for the far phone to be answered). A REFER
 * refused, or a sipfrag of 3xx and above: failed, the conversation goes
 * on and the agent says so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banter/banter.h"
#include "transport/sip_int.h"

enum { NOTIFY_WAIT_MS = 6000 };

struct sip_refer {
	struct sip_link *lk;     /* the link frees us first (link_gone) */
	struct sip_request *req;
	struct tmr tmr;
	char to[256];
	bool done;
};

static void refer_destructor(void *arg)
{
	struct sip_refer *rf = arg;

	tmr_cancel(&rf->tmr);
	mem_deref(rf->req);
}

int sip_post_transfer(struct sip_link *lk, const char *target)
{
	struct main_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return ENOMEM;
	m->lk = sip_link_ref(lk);
	str_ncpy(m->text, target, sizeof(m->text));
	if (bt_mqbox_push(lk->mq, MAIN_TRANSFER, m)) {
		sip_link_put(lk);
		free(m);
		return EPIPE;
	}
	return 0;
}

void sip_post_transfer_result(struct sip_link *lk, int err,
			      const char *why)
{
	struct call_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return;
	m->lk = sip_link_ref(lk);
	m->kind = CALL_TRANSFERRED;
	m->err = err;
	str_ncpy(m->text, why, sizeof(m->text));
	if (bt_loop_call(lk->loop, sip_call_handler, m)) {
		sip_link_put(lk);
		free(m);
	}
}

/* The outcome, once, to the call's loop. */
static void finish(struct sip_refer *rf, int err, const char *why)
{
	struct sip_link *lk = rf->lk;

	if (rf->done)
		return;
	rf->done = true;
	tmr_cancel(&rf->tmr);
	if (err)
		re_printf("%s: the transfer to %s failed (%s): the call goes "
			  "on\n", lk->id, rf->to, why);
	else
		re_printf("%s: transferred to %s (%s)\n", lk->id, rf->to, why);
	fflush(stdout);
	sip_post_transfer_result(lk, err, why);
}

static void notify_wait(void *arg)
{
	struct sip_refer *rf = arg;
	char why[64];

	snprintf(why, sizeof(why), "accepted, no final NOTIFY in %u s",
		 NOTIFY_WAIT_MS / 1000);
	finish(rf, 0, why);
}

static void refer_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct sip_refer *rf = arg;
	char why[128];

	if (err) {
		snprintf(why, sizeof(why), "the REFER got no answer: %s",
			 strerror(err));
		finish(rf, err, why);
		return;
	}
	if (msg->scode < 200 || rf->done)
		return;
	if (msg->scode >= 300) {
		(void)re_snprintf(why, sizeof(why), "%u %r", msg->scode,
				  &msg->reason);
		finish(rf, ECONNREFUSED, why);
		return;
	}
	re_printf("%s: REFER accepted (%u %r): waiting for the transferee's "
		  "NOTIFY\n", rf->lk->id, msg->scode, &msg->reason);
	fflush(stdout);
	tmr_start(&rf->tmr, NOTIFY_WAIT_MS, notify_wait, rf);
}

/* The REFER is a target refresh: it needs our Contact. */
static int refer_send(enum sip_transp tp, const struct sa *src,
		      const struct sa *dst, struct mbuf *mb, void *arg)
{
	struct sip_contact contact;
	(void)dst;
	(void)arg;

	sip_contact_set(&contact, "agent", src, tp);
	return mbuf_printf(mb, "%H", sip_contact_print, &contact);
}

void sip_refer_start(struct sip_link *lk, struct sip *sip,
		     const char *target)
{
	struct sip_refer *rf;
	char uri[400];
	bool number = strncasecmp(target, "sip:", 4) &&
		      strncasecmp(target, "sips:", 5) &&
		      strncasecmp(target, "tel:", 4);
	int err;

	if (lk->refer && !lk->refer->done) {
		re_printf("%s: a transfer to %s is under way: not another\n",
			  lk->id, lk->refer->to);
		return;
	}
	lk->refer = mem_deref(lk->refer);
	rf = mem_zalloc(sizeof(*rf), refer_destructor);
	if (!rf)
		return;
	rf->lk = lk;
	tmr_init(&rf->tmr);
	str_ncpy(rf->to, target, sizeof(rf->to));
	lk->refer = rf;
	/* a bare number is dialled on the PBX the call came from */
	if (number)
		snprintf(uri, sizeof(uri), "sip:%s@%s", target, lk->peer_host);
	else
		str_ncpy(uri, target, sizeof(uri));
	if (!lk->sess || !lk->answered) {
		finish(rf, ENOTCONN, "the call is not established");
		return;
	}
	err = sip_drequestf(&rf->req, sip, true, "REFER",
			    sipsess_dialog(lk->sess), 0, NULL, refer_send,
			    refer_resp, rf,
			    "Refer-To: <%s>\r\n"
			    "Referred-By: %s\r\n"
			    "Content-Length: 0\r\n"
			    "\r\n", uri, lk->local_uri);
	if (err) {
		char why[128];

		snprintf(why, sizeof(why), "cannot send the REFER: %s",
			 strerror(err));
		finish(rf, err, why);
		return;
	}
	re_printf("%s: REFER sent: Refer-To <%s>\n", lk->id, uri);
	fflush(stdout);
}

/* The sipfrag's status line: a progress, the end, or a failure. */
static void on_sipfrag(struct sip_refer *rf, const struct sip_msg *msg)
{
	struct pl code, reason;
	char why[128];
	uint32_t sc;

	if (!msg_ctype_cmp(&msg->ctyp, "message", "sipfrag") ||
	    re_regex((const char *)mbuf_buf(msg->mb), mbuf_get_left(msg->mb),
		     "SIP/2.0 [0-9]+ [^\r\n]*", &code, &reason)) {
		re_printf("%s: NOTIFY without a sipfrag status line: ignored\n",
			  rf->lk->id);
		return;
	}
	sc = pl_u32(&code);
	(void)re_snprintf(why, sizeof(why), "%u %r", sc, &reason);
	if (sc < 200) {
		re_printf("%s: NOTIFY: the transferee's progress: %s\n",
			  rf->lk->id, why);
		return;
	}
	finish(rf, sc < 300 ? 0 : ECONNREFUSED, why);
}

bool sip_refer_notify(struct sip *sip, const struct list *calls,
		      const struct sip_msg *msg)
{
	const struct sip_hdr *ev = sip_msg_hdr(msg, SIP_HDR_EVENT);
	struct sip_link *lk = NULL;

	for (struct le *le = calls->head; le; le = le->next) {
		struct sip_link *l = le->data;

		if (l->sess && sip_dialog_cmp(sipsess_dialog(l->sess), msg)) {
			lk = l;
			break;
		}
	}
	if (!lk || !lk->refer) {
		re_printf("%s: NOTIFY for no transfer (481)\n", lk ? lk->id :
			  "sip");
		fflush(stdout);
		(void)sip_reply(sip, msg, 481, "Subscription Does Not Exist");
		return true;
	}
	if (!sip_dialog_rseq_valid(sipsess_dialog(lk->sess), msg)) {
		(void)sip_reply(sip, msg, 500, "Bad Sequence");
		return true;
	}
	if (!ev || ev->val.l < 5 || strncasecmp(ev->val.p, "refer", 5)) {
		(void)sip_reply(sip, msg, 489, "Bad Event");
		return true;
	}
	(void)sip_reply(sip, msg, 200, "OK");
	if (!lk->refer->done)
		on_sipfrag(lk->refer, msg);
	fflush(stdout);
	return true;
}
