/**
 * @file fuzz_wav.c  libFuzzer harness: the WAV reader.
 *
 * The input is a WAV file's bytes, parsed by bt_wav_read_mem() (the parser
 * behind bt_wav_read(), without file I/O): the RIFF chunk walk, the fmt
 * chunk (PCM 8-32 bit, float, G.711, WAVE_FORMAT_EXTENSIBLE) and the
 * mix-down to mono PCM16. The harness checks what the reader promises:
 *  - an error is an errno value with a message, and leaves *pcmp alone;
 *  - a decoded file has a buffer, a rate of BT_RATE_MIN_HZ..BT_RATE_MAX_HZ and no more
 *    samples than the input has bytes (each sample takes at least one).
 * The samples themselves are read (summed), so ASan sees every one of
 * them, and the buffer is freed, so libFuzzer's leak check holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <re.h>
#include "banter/audio.h"
#include "banter/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int16_t *pcm = NULL;
	size_t n = 0, i;
	uint32_t rate = 0;
	int64_t sum = 0;
	int err;

	bt_err_clear();
	err = bt_wav_read_mem(data, size, "fuzz.wav", &pcm, &n, &rate);
	if (err) {
		if (pcm || err < 0 || !bt_errmsg()[0])
			abort();
		return 0;
	}

	if (!pcm || n > size || rate < BT_RATE_MIN_HZ || rate > BT_RATE_MAX_HZ)
		abort();
	for (i = 0; i < n; i++)
		sum += pcm[i];
	/* keeps the loop (and ASan's reads) from being optimised away */
	if (sum == INT64_MIN)
		abort();

	mem_deref(pcm);
	return 0;
}
