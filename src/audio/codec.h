/**
 * @file codec.h  Telephone audio codecs for RTP (private to libbanter and
 *                its programs): Opus, G.722, PCMU, PCMA.
 *
 * Each codec encodes and decodes 20 ms frames of mono PCM16 at its own
 * audio rate (bt_codec_rate_hz: 16000 for Opus and G.722, 8000 for
 * G.711); the RTP clock rate can differ (Opus 48000, G.722 8000 for
 * historical reasons, RFC 3551). A codec object holds one encoder and one
 * decoder; it belongs to one thread (a call's loop). Encode, decode and
 * conceal never allocate.
 */
#ifndef BT_AUDIO_CODEC_H
#define BT_AUDIO_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bt_codec_id {
	BT_CODEC_OPUS = 0,
	BT_CODEC_G722,
	BT_CODEC_PCMU,
	BT_CODEC_PCMA,
	BT_CODEC_COUNT,
};

enum {
	BT_CODEC_MAX_FRAME = 320,   /**< samples per 20 ms at most (16 kHz) */
	BT_CODEC_MAX_PACKET = 400,  /**< encoded bytes per 20 ms at most */
	BT_CODEC_MAX_DECODE = 1920, /**< samples one packet may decode to
				         (120 ms at 16 kHz, Opus' longest) */
};

/** What SDP says about a codec. */
struct bt_codec_info {
	enum bt_codec_id id;
	const char *name;     /**< rtpmap encoding name ("G722") */
	uint32_t clock_hz;    /**< RTP clock rate */
	uint8_t channels;     /**< rtpmap channels (Opus: 2, audio is mono) */
	int static_pt;        /**< RFC 3551 payload type, or -1 */
	uint32_t rate_hz;     /**< the PCM rate it takes and gives */
	const char *fmtp;     /**< our a=fmtp parameters, or NULL */
};

/** The codec of an rtpmap (name case-insensitive), or NULL. */
const struct bt_codec_info *bt_codec_find(const char *name, size_t name_len,
					  uint32_t clock_hz, unsigned channels);
/** The codec of a static payload type without rtpmap, or NULL. */
const struct bt_codec_info *bt_codec_static(int pt);
const struct bt_codec_info *bt_codec_info(enum bt_codec_id id);

struct bt_codec;

/** One encoder and decoder. Free with mem_deref(). Any thread. */
int bt_codec_alloc(struct bt_codec **cp, enum bt_codec_id id);
const struct bt_codec_info *bt_codec_get_info(const struct bt_codec *c);
/** Samples per 20 ms frame at the codec's rate. */
size_t bt_codec_frame_samples(const struct bt_codec *c);
/** RTP timestamp units per 20 ms. */
uint32_t bt_codec_frame_ticks(const struct bt_codec *c);

/**
 * Encode one 20 ms frame (bt_codec_frame_samples samples) into out
 * (at least BT_CODEC_MAX_PACKET bytes); *np gets the payload size.
 */
int bt_codec_encode(struct bt_codec *c, const int16_t *pcm, uint8_t *out,
		    size_t max, size_t *np);
/**
 * Decode one RTP payload into pcm (max samples); *np gets the samples.
 * EBADMSG for a payload that cannot be this codec's.
 */
int bt_codec_decode(struct bt_codec *c, const uint8_t *in, size_t n,
		    int16_t *pcm, size_t max, size_t *np);
/**
 * One 20 ms frame in place of a lost packet: Opus' own concealment, else
 * the last frame decoded, fading out over a few frames, then silence.
 */
void bt_codec_conceal(struct bt_codec *c, int16_t *pcm);

#endif
