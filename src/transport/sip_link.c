/**
 * @file sip_link.c  What inbound calls (sip.c) and outbound calls
 *                   (sip_dial.c) share on the main thread: the link to the
 *                   call's loop and its messages, and the SDP bodies of a
 *                   dialog (reading an offer, writing our answer, the
 *                   peer's re-INVITE).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banter/banter.h"
#include "transport/sip_int.h"

struct sip_link *sip_link_ref(struct sip_link *lk)
{
	atomic_fetch_add(&lk->refs, 1);
	return lk;
}

void sip_link_put(struct sip_link *lk)
{
	if (lk && atomic_fetch_sub(&lk->refs, 1) == 1) {
		bt_loop_release(lk->loop);  /* every call link took one */
		bt_mqbox_put(lk->mq);
		free(lk);
	}
}

int sip_post_main(struct sip_link *lk, enum main_kind kind, uint16_t port,
		  int err)
{
	struct main_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return ENOMEM;
	m->lk = sip_link_ref(lk);
	m->port = port;
	m->err = err;
	if (bt_mqbox_push(lk->mq, (int)kind, m)) {
		sip_link_put(lk);
		free(m);
		return EPIPE;
	}
	return 0;
}

int sip_post_call(struct sip_link *lk, enum call_kind kind,
		  const struct sip_media *media)
{
	struct call_msg *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return ENOMEM;
	m->lk = sip_link_ref(lk);
	m->kind = kind;
	if (media)
		m->media = *media;
	err = bt_loop_call(lk->loop, sip_call_handler, m);
	if (err) {
		sip_link_put(lk);
		free(m);
	}
	return err;
}

void sip_media_of(const struct sip_link *lk, const struct bt_sdp_offer *o,
		  struct sip_media *m)
{
	memset(m, 0, sizeof(*m));
	m->codec = o->ci->id;
	m->pt = o->pt;
	m->te_pt = o->te_pt;
	m->te_clock_hz = o->te_clock_hz;
	m->raddr = o->addr;
	/* the peer only sends, or nothing, or points us nowhere: hold */
	m->send = (o->dir & BT_SDP_RECVONLY) && !o->hold_addr;
	if (o->crypto.key_len) {
		m->suite = o->crypto.suite;
		m->key_len = o->crypto.key_len;
		memcpy(m->tx_key, lk->srtp_key, m->key_len);
		memcpy(m->rx_key, o->crypto.key, m->key_len);
	}
}

int sip_answer_mb(struct sip_link *lk, struct mbuf **mbp)
{
	char buf[2048];
	struct mbuf *mb;
	int n;

	n = bt_sdp_answer_print(buf, sizeof(buf), &lk->offer, &lk->sdp_addr,
				(uint32_t)(uintptr_t)lk & 0x7fffffff,
				++lk->sdp_version, lk->srtp_key);
	if (n < 0)
		return ENOMEM;
	mb = mbuf_alloc((size_t)n);
	if (!mb)
		return ENOMEM;
	(void)mbuf_write_mem(mb, (const uint8_t *)buf, (size_t)n);
	mb->pos = 0;
	*mbp = mb;
	return 0;
}

const char *sip_sdp_errmsg(int err)
{
	switch (err) {
	case EBADMSG: return "the SDP offer is malformed";
	case EPROTONOSUPPORT: return "the SDP offers no RTP/AVP or RTP/SAVP "
		"audio stream";
	case ENOTSUP: return "no codec in common";
	case EKEYREJECTED: return "SRTP: no a=crypto line banter can use "
		"(an RTP/SAVP stream needs one; a malformed line is refused)";
	default: return "the SDP offer cannot be read";
	}
}

int sip_body_offer(const struct sip_msg *msg, struct bt_sdp_offer *o)
{
	size_t n = mbuf_get_left(msg->mb);

	if (!n)
		return ENODATA;
	if (msg_ctype_cmp(&msg->ctyp, "application", "sdp") == false)
		return EPROTONOSUPPORT;
	return bt_sdp_offer_parse((const char *)mbuf_buf(msg->mb), n, o);
}

/* A re-INVITE: hold, resume, another codec or address. */
int sip_offer_h(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	struct sip_link *lk = arg;
	struct bt_sdp_offer o;
	struct sip_media m;
	int err;

	err = sip_body_offer(msg, &o);
	if (err == ENODATA)  /* no offer: ours again, answered in the ACK */
		return sip_answer_mb(lk, descp);
	if (err) {
		re_printf("%s: re-INVITE refused (488): %s\n", lk->id,
		       sip_sdp_errmsg(err));
		return err;
	}
	/* keys may change (the peer's rekeying); SRTP itself may not */
	if (!o.crypto.key_len != !lk->offer.crypto.key_len) {
		re_printf("%s: re-INVITE refused (488): it turns SRTP %s "
			  "within the call\n", lk->id, o.crypto.key_len ?
			  "on" : "off");
		return EKEYREJECTED;
	}
	if (o.crypto.key_len != lk->offer.crypto.key_len)
		rand_bytes(lk->srtp_key, sizeof(lk->srtp_key));
	lk->offer = o;
	sip_media_of(lk, &o, &m);
	re_printf("%s: re-INVITE: %s/%u, %s\n", lk->id, o.ci->name,
	       o.ci->clock_hz, m.send ? "sendrecv" : "hold");
	(void)sip_post_call(lk, CALL_MEDIA, &m);
	return sip_answer_mb(lk, descp);
}


int sip_cred_alloc(struct sip_cred **cp, const char *user,
		   const char *password)
{
	struct sip_cred *c = mem_zalloc(sizeof(*c), NULL);

	if (!c)
		return ENOMEM;
	str_ncpy(c->user, user ? user : "", sizeof(c->user));
	c->password = password;
	*cp = c;
	return 0;
}

int sip_cred_auth_h(char **user, char **pass, const char *realm, void *arg)
{
	struct sip_cred *c = arg;
	int err;

	c->asked = true;
	str_ncpy(c->realm, realm ? realm : "", sizeof(c->realm));
	/* EAUTH ends the request with the challenge as its answer */
	if (!c->password || !c->user[0])
		return EAUTH;
	err = str_dup(user, c->user);
	if (!err)
		err = str_dup(pass, c->password);
	return err;
}
