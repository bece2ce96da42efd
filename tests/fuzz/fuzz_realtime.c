/**
 * @file fuzz_realtime.c  libFuzzer harness: the Realtime client-event
 *                        decoder (src/transport/rt_decode.c).
 *
 * The input is one WebSocket text message as a client would send it. The
 * harness checks what the decoder promises:
 *  - an error carries a type, a message and, when the event had one, the
 *    client's event_id; nothing is left to free;
 *  - a decoded event has a known type, and every string it points at is
 *    readable (their lengths are summed, so ASan sees each byte);
 *  - audio in an append decodes, or is refused, by bt_rt_b64_decode
 *    within its output size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "transport/realtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t len(const char *s)
{
	return s ? strlen(s) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t audio[BT_RT_MAX_MESSAGE];
	struct bt_rt_event ev;
	struct bt_rt_error er;
	char evid[64];
	size_t n = 0;

	if (bt_rt_decode((const char *)data, size, &ev, &er, evid,
			 sizeof(evid))) {
		if (!er.type || !er.message[0] || ev.root)
			abort();
		return 0;
	}
	if ((unsigned)ev.type > BT_RT_OUTPUT_AUDIO_CLEAR || !ev.root)
		abort();
	n += len(ev.event_id) + len(ev.item_id) + len(ev.text) +
		len(ev.role) + len(ev.call_id) + len(ev.item_type) +
		len(ev.previous_item_id) + len(ev.response_id) +
		len(ev.conversation) + len(ev.cfg.instructions) +
		len(ev.cfg.voice) + len(ev.cfg.eagerness) + len(ev.cfg.model);
	if (ev.type == BT_RT_AUDIO_APPEND) {
		size_t out = sizeof(audio);
		if (!bt_rt_b64_decode(ev.audio, ev.audio_len, audio, &out) &&
		    out > ev.audio_len)
			abort();
	}
	if (n == SIZE_MAX)
		abort();
	bt_rt_event_free(&ev);
	return 0;
}
