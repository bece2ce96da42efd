/**
 * @file codec.c  Opus (libopus), G.722 (spandsp), PCMU and PCMA (librem)
 *                for RTP: 20 ms frames, no allocation per frame.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <opus/opus.h>
#include <spandsp.h>
#include <re.h>
#include <rem/rem_g711.h>
#include "audio/codec.h"

enum {
	FADE_FRAMES = 5,  /* a lost packet repeats the last one, this many
			     frames fading to silence: longer repeats buzz */
};

static const struct bt_codec_info infos[BT_CODEC_COUNT] = {
	{BT_CODEC_OPUS, "opus", 48000, 2, -1, 16000,
	 "stereo=0;sprop-stereo=0;useinbandfec=1"},
	{BT_CODEC_G722, "G722", 8000, 1, 9, 16000, NULL},
	{BT_CODEC_PCMU, "PCMU", 8000, 1, 0, 8000, NULL},
	{BT_CODEC_PCMA, "PCMA", 8000, 1, 8, 8000, NULL},
};

struct bt_codec {
	const struct bt_codec_info *info;
	OpusEncoder *opus_enc;
	OpusDecoder *opus_dec;
	g722_encode_state_t *g722_enc;
	g722_decode_state_t *g722_dec;
	int16_t last[BT_CODEC_MAX_FRAME];  /* for concealment */
	unsigned lost;                     /* frames concealed in a row */
};

const struct bt_codec_info *bt_codec_find(const char *name, size_t name_len,
					  uint32_t clock_hz, unsigned channels)
{
	for (size_t i = 0; i < BT_CODEC_COUNT; i++) {
		const struct bt_codec_info *ci = &infos[i];

		if (strlen(ci->name) != name_len ||
		    strncasecmp(ci->name, name, name_len) ||
		    ci->clock_hz != clock_hz)
			continue;
		/* rtpmap's channels default to 1; Opus is always "/2" */
		if ((channels ? channels : 1) != ci->channels)
			continue;
		return ci;
	}
	return NULL;
}

const struct bt_codec_info *bt_codec_static(int pt)
{
	for (size_t i = 0; i < BT_CODEC_COUNT; i++)
		if (infos[i].static_pt >= 0 && infos[i].static_pt == pt)
			return &infos[i];
	return NULL;
}

const struct bt_codec_info *bt_codec_info(enum bt_codec_id id)
{
	return (unsigned)id < BT_CODEC_COUNT ? &infos[id] : NULL;
}

static void destructor(void *arg)
{
	struct bt_codec *c = arg;

	if (c->opus_enc)
		opus_encoder_destroy(c->opus_enc);
	if (c->opus_dec)
		opus_decoder_destroy(c->opus_dec);
	if (c->g722_enc)
		g722_encode_free(c->g722_enc);
	if (c->g722_dec)
		g722_decode_free(c->g722_dec);
}

int bt_codec_alloc(struct bt_codec **cp, enum bt_codec_id id)
{
	struct bt_codec *c;
	int oerr = OPUS_OK, err = 0;

	if (!cp || (unsigned)id >= BT_CODEC_COUNT)
		return EINVAL;
	c = mem_zalloc(sizeof(*c), destructor);
	if (!c)
		return ENOMEM;
	c->info = &infos[id];
	switch (id) {
	case BT_CODEC_OPUS:
		/* wideband is all the recogniser and voices use */
		c->opus_enc = opus_encoder_create(16000, 1,
						  OPUS_APPLICATION_VOIP, &oerr);
		if (oerr == OPUS_OK)
			c->opus_dec = opus_decoder_create(16000, 1, &oerr);
		if (oerr != OPUS_OK) {
			err = ENOMEM;
			goto out;
		}
		(void)opus_encoder_ctl(c->opus_enc, OPUS_SET_BITRATE(32000));
		(void)opus_encoder_ctl(c->opus_enc, OPUS_SET_INBAND_FEC(1));
		(void)opus_encoder_ctl(c->opus_enc,
				       OPUS_SET_PACKET_LOSS_PERC(5));
		break;
	case BT_CODEC_G722:
		c->g722_enc = g722_encode_init(NULL, 64000, 0);
		c->g722_dec = g722_decode_init(NULL, 64000, 0);
		if (!c->g722_enc || !c->g722_dec)
			err = ENOMEM;
		break;
	default:
		break;
	}
 out:
	if (err)
		mem_deref(c);
	else
		*cp = c;
	return err;
}

const struct bt_codec_info *bt_codec_get_info(const struct bt_codec *c)
{
	return c ? c->info : NULL;
}

size_t bt_codec_frame_samples(const struct bt_codec *c)
{
	return c ? c->info->rate_hz / 50 : 0;
}

uint32_t bt_codec_frame_ticks(const struct bt_codec *c)
{
	return c ? c->info->clock_hz / 50 : 0;
}

int bt_codec_encode(struct bt_codec *c, const int16_t *pcm, uint8_t *out,
		    size_t max, size_t *np)
{
	size_t n;
	int r;

	if (!c || !pcm || !out || !np)
		return EINVAL;
	n = bt_codec_frame_samples(c);
	switch (c->info->id) {
	case BT_CODEC_OPUS:
		r = opus_encode(c->opus_enc, pcm, (int)n, out,
				(opus_int32)max);
		if (r < 0)
			return EPROTO;
		*np = (size_t)r;
		return 0;
	case BT_CODEC_G722:
		if (max < n / 2)
			return ENOSPC;
		*np = (size_t)g722_encode(c->g722_enc, out, pcm, (int)n);
		return 0;
	case BT_CODEC_PCMU:
	case BT_CODEC_PCMA:
		if (max < n)
			return ENOSPC;
		for (size_t i = 0; i < n; i++)
			out[i] = c->info->id == BT_CODEC_PCMU ?
				g711_pcm2ulaw(pcm[i]) : g711_pcm2alaw(pcm[i]);
		*np = n;
		return 0;
	default:
		return EINVAL;
	}
}

static void keep_last(struct bt_codec *c, const int16_t *pcm, size_t n)
{
	size_t fs = bt_codec_frame_samples(c);

	c->lost = 0;
	if (n >= fs)
		memcpy(c->last, pcm + n - fs, fs * sizeof(*pcm));
}

int bt_codec_decode(struct bt_codec *c, const uint8_t *in, size_t n,
		    int16_t *pcm, size_t max, size_t *np)
{
	size_t ns;
	int r;

	if (!c || !in || !pcm || !np)
		return EINVAL;
	if (!n)
		return EBADMSG;
	switch (c->info->id) {
	case BT_CODEC_OPUS:
		r = opus_decode(c->opus_dec, in, (opus_int32)n, pcm, (int)max,
				0);
		if (r < 0)
			return EBADMSG;
		ns = (size_t)r;
		break;
	case BT_CODEC_G722:
		/* one byte holds two 16 kHz samples */
		if (n * 2 > max)
			return EBADMSG;
		ns = (size_t)g722_decode(c->g722_dec, pcm, in, (int)n);
		break;
	case BT_CODEC_PCMU:
	case BT_CODEC_PCMA:
		if (n > max)
			return EBADMSG;
		for (size_t i = 0; i < n; i++)
			pcm[i] = c->info->id == BT_CODEC_PCMU ?
				g711_ulaw2pcm(in[i]) : g711_alaw2pcm(in[i]);
		ns = n;
		break;
	default:
		return EINVAL;
	}
	keep_last(c, pcm, ns);
	*np = ns;
	return 0;
}

void bt_codec_conceal(struct bt_codec *c, int16_t *pcm)
{
	size_t fs;

	if (!c || !pcm)
		return;
	fs = bt_codec_frame_samples(c);
	if (c->info->id == BT_CODEC_OPUS) {
		if (opus_decode(c->opus_dec, NULL, 0, pcm, (int)fs, 0) ==
		    (int)fs)
			return;
	}
	if (c->lost >= FADE_FRAMES) {
		memset(pcm, 0, fs * sizeof(*pcm));
		return;
	}
	++c->lost;
	/* each repeat quieter, linearly within the frame, no steps */
	for (size_t i = 0; i < fs; i++) {
		int32_t g0 = (int32_t)(FADE_FRAMES - c->lost + 1) * 1024 /
			FADE_FRAMES;
		int32_t g1 = (int32_t)(FADE_FRAMES - c->lost) * 1024 /
			FADE_FRAMES;
		int32_t g = g0 + (g1 - g0) * (int32_t)i / (int32_t)fs;
		pcm[i] = (int16_t)(c->last[i] * g / 1024);
	}
}
