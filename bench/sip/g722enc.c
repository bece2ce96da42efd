/*
 * A WAV file as raw G.722 payload (20 ms packets back to back), for sipp's
 * rtp_stream in the SIP load benchmark (bench/sip_load.sh): banter's own
 * encoder (spandsp), since Debian has no G.722 command-line encoder.
 *   g722enc IN.wav OUT.g722
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include <banter/banter.h>
#include "audio/codec.h"

int main(int argc, char **argv)
{
	int16_t *pcm = NULL, *pcm16 = NULL;
	size_t n = 0, n16 = 0;
	uint32_t rate = 0;
	struct bt_codec *c = NULL;
	FILE *out = NULL;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: g722enc IN.wav OUT.g722\n");
		return 2;
	}
	err = bt_wav_read(argv[1], &pcm, &n, &rate);
	if (!err)
		err = bt_resample_buf(pcm, n, rate, 16000, &pcm16, &n16);
	if (!err)
		err = bt_codec_alloc(&c, BT_CODEC_G722);
	if (err) {
		fprintf(stderr, "g722enc: %s\n", bt_errmsg());
		goto out;
	}
	out = fopen(argv[2], "wb");
	if (!out) {
		err = errno;
		fprintf(stderr, "g722enc: %s: %s\n", argv[2], strerror(err));
		goto out;
	}
	for (size_t i = 0; i < n16; i += 320) {
		int16_t frame[320] = {0};
		uint8_t pkt[BT_CODEC_MAX_PACKET];
		size_t np = 0;

		memcpy(frame, pcm16 + i, (n16 - i < 320 ? n16 - i : 320) *
		       sizeof(*frame));
		err = bt_codec_encode(c, frame, pkt, sizeof(pkt), &np);
		if (err || fwrite(pkt, 1, np, out) != np) {
			fprintf(stderr, "g722enc: cannot encode or write\n");
			err = err ? err : EIO;
			break;
		}
	}
 out:
	if (out && fclose(out) && !err)
		err = EIO;
	mem_deref(c);
	mem_deref(pcm);
	mem_deref(pcm16);
	return err ? 1 : 0;
}
