/**
 * @file fuzz_rtp.c  libFuzzer harness: a call's input path for what RTP
 * brings: the jitter buffer (any order of sequence numbers, duplicates,
 * jumps, empty and oversized payloads) and every codec's decoder on the
 * payloads it hands out, concealment included.
 *
 * The input is a list of records: [op][seq hi][seq lo][len][len bytes].
 * op's low bits say put (audio or event) or get; the first byte picks the
 * codec. The harness checks that a get never hands out more than was put
 * in a packet, that the decoder writes no more than it may, that a tick
 * always gets an answer (no stall), and that no more than the target plus
 * the backlog bound (raised and lowered as a call does) are ever held.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "audio/codec.h"
#include "audio/jitter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int16_t pcm[BT_CODEC_MAX_DECODE];
	struct bt_codec *c = NULL;
	struct bt_jitter *j = NULL;
	struct bt_jitter_stats st;
	uint32_t bound = BT_JITTER_BACKLOG;
	size_t i = 1;

	if (size < 1)
		return 0;
	if (bt_codec_alloc(&c, (enum bt_codec_id)(data[0] % BT_CODEC_COUNT)) ||
	    bt_jitter_alloc(&j, 1 + data[0] / 64, 8)) {
		mem_deref(c);
		mem_deref(j);
		return 0;
	}
	while (i + 4 <= size) {
		uint8_t op = data[i];
		uint16_t seq = (uint16_t)(data[i + 1] << 8 | data[i + 2]);
		size_t len = data[i + 3];

		i += 4;
		if (len > size - i)
			len = size - i;
		if (op & 1) {
			const uint8_t *p = NULL;
			size_t n = 0, got = 0;

			if (op & 8) {
				/* the caller starts or stops speaking */
				bound = bound == BT_JITTER_BACKLOG ?
					BT_JITTER_SLOTS : BT_JITTER_BACKLOG;
				bt_jitter_set_backlog(j, bound);
			}

			switch (bt_jitter_get(j, &p, &n)) {
			case BT_JITTER_OK:
				if (!p || n > BT_JITTER_MAX_PAYLOAD)
					abort();
				if (!bt_codec_decode(c, p, n, pcm,
						     BT_CODEC_MAX_DECODE, &got) &&
				    got > BT_CODEC_MAX_DECODE)
					abort();
				break;
			case BT_JITTER_LOST:
				bt_codec_conceal(c, pcm);
				break;
			default:
				break;
			}
		}
		else {
			/* a long payload repeats the record's bytes */
			static uint8_t big[BT_JITTER_MAX_PAYLOAD + 64];
			size_t n = (op & 4) && len ? len * 5 + 200 : len;

			for (size_t k = 0; k < n && k < sizeof(big); k++)
				big[k] = data[i + (len ? k % len : 0)];
			if (n > sizeof(big))
				n = sizeof(big);
			(void)bt_jitter_put(j, seq, len ? big : NULL,
					    len ? n : 0, !(op & 2));
			/* the backlog is bounded whatever comes */
			bt_jitter_stats(j, &st);
			if (st.held > st.target + bound)
				abort();
		}
		i += len;
	}
	mem_deref(c);
	mem_deref(j);
	return 0;
}
