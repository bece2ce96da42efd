/**
 * @file sdp.c  Reading an SDP offer and writing the answer (RFC 3264,
 *              RFC 4566), for one audio stream.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "audio/codec.h"
#include "transport/sdp.h"

/* What a line-by-line read keeps between lines. */
struct reader {
	struct bt_sdp_offer *o;
	int cur;                 /* media index, -1: session level */
	bool audio_c;            /* the taken stream had its own c= */
	struct sa sess_addr;
	bool sess_hold;
	bool sess_has_c;
	enum bt_sdp_dir sess_dir, media_dir;
	bool media_dir_set;
	struct {
		int pt;
		char name[32];
		uint32_t clock;
		unsigned ch;
	} maps[BT_SDP_MAX_FMTS];
	size_t n_maps;
};

/* Only printable ASCII without spaces: what we copy into the answer. */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

static bool is_digits(const struct pl *p)
{
	if (!p->l || p->l > 5)
		return false;
	for (size_t i = 0; i < p->l; i++)
		if (p->p[i] < '0' || p->p[i] > '9')
			return false;
	return true;
}

/* "IN IP4 192.0.2.1" (a multicast /ttl is ignored) */
static int conn_parse(const struct pl *v, struct sa *sa, bool *holdp)
{
	struct pl af, addr;
	char a[64];

	if (re_regex(v->p, v->l, "IN IP[46]1 [^ /]+", &af, &addr))
		return EBADMSG;
	if (addr.l >= sizeof(a))
		return EBADMSG;
	(void)pl_strcpy(&addr, a, sizeof(a));
	if (sa_set_str(sa, a, 0))
		return EBADMSG;  /* a host name: not for a phone */
	*holdp = !sa_isset(sa, SA_ADDR);
	return 0;
}

static int media_line(struct reader *r, const struct pl *v)
{
	struct bt_sdp_offer *o = r->o;
	struct bt_sdp_media *m;
	struct pl type, port, proto, fmts;
	const char *p, *end;

	if (re_regex(v->p, v->l, "[^ ]+ [0-9]+[^ ]* [^ ]+[ ]*[^]*", &type,
		     &port, NULL, &proto, NULL, &fmts))
		return EBADMSG;
	if (o->n_media == BT_SDP_MAX_MEDIA)
		return EBADMSG;
	m = &o->media[o->n_media];
	r->cur = (int)o->n_media++;
	r->media_dir_set = false;
	if (type.l >= sizeof(m->type) || proto.l >= sizeof(m->proto) ||
	    !is_digits(&port) || pl_u32(&port) > 65535)
		return EBADMSG;
	(void)pl_strcpy(&type, m->type, sizeof(m->type));
	(void)pl_strcpy(&proto, m->proto, sizeof(m->proto));
	m->port = (uint16_t)pl_u32(&port);
	/* the first format, for a refused line */
	p = fmts.p;
	end = fmts.p + fmts.l;
	{
		const char *sp = memchr(p, ' ', fmts.l);
		size_t n = (size_t)((sp ? sp : end) - p);
		if (!n || n >= sizeof(m->fmt0))
			return EBADMSG;
		memcpy(m->fmt0, p, n);
		m->fmt0[n] = '\0';
	}
	if (!is_token(m->type) || !is_token(m->proto) || !is_token(m->fmt0))
		return EBADMSG;
	/* the first audio stream over plain RTP is ours */
	if (o->audio >= 0 || strcmp(m->type, "audio") || !m->port ||
	    (strcmp(m->proto, "RTP/AVP") && strcmp(m->proto, "RTP/AVPF")))
		return 0;
	o->audio = r->cur;
	while (p < end) {
		struct pl f;
		const char *sp;

		while (p < end && *p == ' ')
			++p;
		if (p == end)
			break;
		sp = memchr(p, ' ', (size_t)(end - p));
		f.p = p;
		f.l = (size_t)((sp ? sp : end) - p);
		p += f.l;
		if (!is_digits(&f) || pl_u32(&f) > 127)
			return EBADMSG;
		if (o->n_fmts == BT_SDP_MAX_FMTS)
			continue;
		o->fmts[o->n_fmts].pt = (int)pl_u32(&f);
		o->fmts[o->n_fmts].ci = NULL;
		++o->n_fmts;
	}
	return o->n_fmts ? 0 : EBADMSG;
}

static void dir_attr(struct reader *r, const struct pl *name)
{
	enum bt_sdp_dir d;

	if (!pl_strcmp(name, "sendrecv"))
		d = BT_SDP_SENDRECV;
	else if (!pl_strcmp(name, "sendonly"))
		d = BT_SDP_SENDONLY;
	else if (!pl_strcmp(name, "recvonly"))
		d = BT_SDP_RECVONLY;
	else if (!pl_strcmp(name, "inactive"))
		d = BT_SDP_INACTIVE;
	else
		return;
	if (r->cur < 0)
		r->sess_dir = d;
	else if (r->cur == r->o->audio) {
		r->media_dir = d;
		r->media_dir_set = true;
	}
}

static int attr_line(struct reader *r, const struct pl *v)
{
	struct pl name, val, pt, enc, clock, ch;

	if (re_regex(v->p, v->l, "[^:]+[:]*[^]*", &name, NULL, &val))
		return 0;
	dir_attr(r, &name);
	if (r->cur < 0 || r->cur != r->o->audio)
		return 0;
	if (!pl_strcmp(&name, "ptime") && is_digits(&val)) {
		r->o->ptime_ms = pl_u32(&val);
		return 0;
	}
	if (pl_strcmp(&name, "rtpmap"))
		return 0;
	if (re_regex(val.p, val.l, "[0-9]+[ ]+[^/]+/[0-9]+[/]*[0-9]*", &pt,
		     NULL, &enc, &clock, NULL, &ch) || !is_digits(&pt) ||
	    pl_u32(&pt) > 127 || enc.l >= sizeof(r->maps[0].name) ||
	    clock.l > 9)
		return 0;  /* a line we cannot read names nothing we take */
	if (r->n_maps == BT_SDP_MAX_FMTS)
		return 0;
	r->maps[r->n_maps].pt = (int)pl_u32(&pt);
	(void)pl_strcpy(&enc, r->maps[r->n_maps].name,
			sizeof(r->maps[0].name));
	r->maps[r->n_maps].clock = pl_u32(&clock);
	r->maps[r->n_maps].ch = ch.l && ch.l < 3 ? pl_u32(&ch) : 0;
	++r->n_maps;
	return 0;
}

static int line(struct reader *r, const char *p, size_t n)
{
	struct pl v;

	if (!n)
		return 0;
	if (n < 2 || p[1] != '=')
		return EBADMSG;
	v.p = p + 2;
	v.l = n - 2;
	switch (p[0]) {
	case 'm':
		return media_line(r, &v);
	case 'c':
		if (r->cur < 0) {
			r->sess_has_c = true;
			return conn_parse(&v, &r->sess_addr, &r->sess_hold);
		}
		if (r->cur == r->o->audio) {
			r->audio_c = true;
			return conn_parse(&v, &r->o->addr, &r->o->hold_addr);
		}
		return 0;
	case 'a':
		return attr_line(r, &v);
	default:
		return 0;
	}
}

/* The formats of the taken stream, named by rtpmap or statically. */
static void resolve(struct reader *r)
{
	struct bt_sdp_offer *o = r->o;
	uint32_t want_te = 0;

	for (size_t i = 0; i < o->n_fmts; i++) {
		int pt = o->fmts[i].pt;
		bool mapped = false;

		for (size_t k = 0; k < r->n_maps; k++) {
			if (r->maps[k].pt != pt)
				continue;
			mapped = true;
			o->fmts[i].ci = bt_codec_find(r->maps[k].name,
				strlen(r->maps[k].name), r->maps[k].clock,
				r->maps[k].ch);
			if (!strcasecmp(r->maps[k].name, "telephone-event") &&
			    o->te_pt < 0) {
				o->te_pt = pt;
				o->te_clock_hz = r->maps[k].clock;
			}
			break;
		}
		if (!mapped && pt < 96)
			o->fmts[i].ci = bt_codec_static(pt);
		if (o->fmts[i].ci && !o->ci) {
			o->ci = o->fmts[i].ci;
			o->pt = pt;
		}
	}
	/* telephone-event at the codec's clock if offered, else the first */
	if (o->ci)
		want_te = o->ci->clock_hz;
	for (size_t k = 0; k < r->n_maps && want_te; k++) {
		if (!strcasecmp(r->maps[k].name, "telephone-event") &&
		    r->maps[k].clock == want_te) {
			for (size_t i = 0; i < o->n_fmts; i++)
				if (o->fmts[i].pt == r->maps[k].pt) {
					o->te_pt = r->maps[k].pt;
					o->te_clock_hz = r->maps[k].clock;
				}
		}
	}
}

int bt_sdp_offer_parse(const char *sdp, size_t len, struct bt_sdp_offer *o)
{
	struct reader *r;
	static __thread struct reader rd;
	const char *p = sdp, *end = sdp + len;
	int err = 0;

	if (!sdp || !o)
		return EINVAL;
	memset(o, 0, sizeof(*o));
	o->audio = -1;
	o->te_pt = -1;
	o->pt = -1;
	if (!len || len > BT_SDP_MAX || len < 2 || memcmp(sdp, "v=", 2))
		return EBADMSG;
	r = &rd;
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->cur = -1;
	r->sess_dir = BT_SDP_SENDRECV;
	while (p < end && !err) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		if (n && p[n - 1] == '\r')
			--n;
		err = line(r, p, n);
		p = nl ? nl + 1 : end;
	}
	if (err)
		return err;
	if (o->audio < 0)
		return EPROTONOSUPPORT;
	if (!r->audio_c) {
		if (!r->sess_has_c)
			return EBADMSG;
		o->addr = r->sess_addr;
		o->hold_addr = r->sess_hold;
	}
	sa_set_port(&o->addr, o->media[o->audio].port);
	o->dir = r->media_dir_set ? r->media_dir : r->sess_dir;
	resolve(r);
	return o->ci ? 0 : ENOTSUP;
}

enum bt_sdp_dir bt_sdp_answer_dir(enum bt_sdp_dir peer)
{
	switch (peer) {
	case BT_SDP_SENDONLY: return BT_SDP_RECVONLY;
	case BT_SDP_RECVONLY: return BT_SDP_SENDONLY;
	case BT_SDP_INACTIVE: return BT_SDP_INACTIVE;
	default:              return BT_SDP_SENDRECV;
	}
}

static const char *dir_name(enum bt_sdp_dir d)
{
	static const char *const names[] = {"inactive", "recvonly",
					    "sendonly", "sendrecv"};
	return names[d & 3];
}

int bt_sdp_answer_print(char *buf, size_t sz, const struct bt_sdp_offer *o,
			const struct sa *laddr, uint32_t sess_id,
			uint32_t version)
{
	const char *ip = sa_af(laddr) == AF_INET6 ? "IP6" : "IP4";
	const struct bt_codec_info *ci;
	int n;

	if (!buf || !o || !laddr || !o->ci || o->audio < 0)
		return -1;
	ci = o->ci;
	n = re_snprintf(buf, sz, "v=0\r\no=banter %u %u IN %s %j\r\n"
			"s=banter\r\nc=IN %s %j\r\nt=0 0\r\n", sess_id,
			version, ip, laddr, ip, laddr);
	for (size_t i = 0; n >= 0 && (size_t)n < sz && i < o->n_media; i++) {
		const struct bt_sdp_media *m = &o->media[i];
		int k;

		if ((int)i != o->audio) {
			k = re_snprintf(buf + n, sz - (size_t)n,
					"m=%s 0 %s %s\r\n", m->type, m->proto,
					m->fmt0);
		}
		else {
			char fmtp[96] = "", te[32] = "", tel[96] = "";

			if (ci->fmtp)
				(void)re_snprintf(fmtp, sizeof(fmtp),
						  "a=fmtp:%d %s\r\n", o->pt,
						  ci->fmtp);
			if (o->te_pt >= 0) {
				(void)re_snprintf(te, sizeof(te), " %d",
						  o->te_pt);
				(void)re_snprintf(tel, sizeof(tel),
					"a=rtpmap:%d telephone-event/%u\r\n"
					"a=fmtp:%d 0-15\r\n", o->te_pt,
					o->te_clock_hz, o->te_pt);
			}
			k = re_snprintf(buf + n, sz - (size_t)n,
				"m=audio %u %s %d%s\r\n"
				"a=rtpmap:%d %s/%u%s\r\n%s%s"
				"a=ptime:20\r\na=%s\r\n",
				sa_port(laddr), m->proto, o->pt, te,
				o->pt, ci->name, ci->clock_hz,
				ci->channels == 2 ? "/2" : "", fmtp, tel,
				dir_name(bt_sdp_answer_dir(o->dir)));
		}
		if (k < 0)
			return -1;
		n += k;
	}
	if (n < 0 || (size_t)n >= sz)
		return -1;
	return n;
}

/* Our payload type for a codec in an offer: RFC 3551's, or Opus' usual. */
static int offer_pt(const struct bt_codec_info *ci)
{
	return ci->static_pt >= 0 ? ci->static_pt : 96 + (int)ci->id;
}

int bt_sdp_offer_print(char *buf, size_t sz, const enum bt_codec_id *codecs,
		       size_t n_codecs, const struct sa *laddr,
		       uint32_t sess_id, uint32_t version)
{
	const char *ip = laddr && sa_af(laddr) == AF_INET6 ? "IP6" : "IP4";
	char fmts[64] = "", maps[1024] = "";
	size_t nf = 0, nm = 0;
	bool wide = false;
	int n;

	if (!buf || !codecs || !n_codecs || n_codecs > BT_CODEC_COUNT ||
	    !laddr)
		return -1;
	for (size_t i = 0; i < n_codecs; i++) {
		const struct bt_codec_info *ci = bt_codec_info(codecs[i]);
		int pt, k;

		if (!ci)
			return -1;
		pt = offer_pt(ci);
		wide |= ci->clock_hz == 48000;
		k = re_snprintf(fmts + nf, sizeof(fmts) - nf, " %d", pt);
		if (k < 0)
			return -1;
		nf += (size_t)k;
		k = re_snprintf(maps + nm, sizeof(maps) - nm,
				"a=rtpmap:%d %s/%u%s\r\n", pt, ci->name,
				ci->clock_hz, ci->channels == 2 ? "/2" : "");
		if (k < 0)
			return -1;
		nm += (size_t)k;
		if (!ci->fmtp)
			continue;
		k = re_snprintf(maps + nm, sizeof(maps) - nm,
				"a=fmtp:%d %s\r\n", pt, ci->fmtp);
		if (k < 0)
			return -1;
		nm += (size_t)k;
	}
	/* telephone-event at 8 kHz (every phone's), and at Opus' clock
	 * when Opus is offered: the callee picks the one of its codec */
	n = re_snprintf(buf, sz, "v=0\r\no=banter %u %u IN %s %j\r\n"
			"s=banter\r\nc=IN %s %j\r\nt=0 0\r\n"
			"m=audio %u RTP/AVP%s 101%s\r\n%s"
			"a=rtpmap:101 telephone-event/8000\r\n"
			"a=fmtp:101 0-15\r\n%s"
			"a=ptime:20\r\na=sendrecv\r\n",
			sess_id, version, ip, laddr, ip, laddr, sa_port(laddr),
			fmts, wide ? " 100" : "", maps, wide ?
			"a=rtpmap:100 telephone-event/48000\r\n"
			"a=fmtp:100 0-15\r\n" : "");
	if (n < 0 || (size_t)n >= sz)
		return -1;
	return n;
}
