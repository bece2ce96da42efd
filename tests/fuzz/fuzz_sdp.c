/**
 * @file fuzz_sdp.c  libFuzzer harness: the SDP offer reader and the
 * answer writer (src/transport/sdp.c), what every INVITE and re-INVITE
 * from the network goes through.
 *
 * Checks what the reader promises: an error is one of the documented
 * ones; an accepted offer names a codec of ours, a payload type 0..127 in
 * the offer's list and a stream inside the media table; its answer fits
 * the buffer, is NUL-terminated and has exactly as many m= lines as the
 * offer. SRTP: a chosen crypto suite has a key of its length, and the
 * answer then carries exactly one a=crypto line, of the offer's tag.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "audio/codec.h"
#include "transport/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[BT_SDP_KEY_MAX] = {0x42};
	struct bt_sdp_offer o;
	char buf[4096], want[32];
	struct sa la;
	size_t lines = 0;
	bool in_list = false;
	const char *p;
	int err, n;

	err = bt_sdp_offer_parse((const char *)data, size, &o);
	if (err) {
		if (err != EBADMSG && err != EPROTONOSUPPORT &&
		    err != ENOTSUP && err != EKEYREJECTED)
			abort();
		return 0;
	}
	if (!o.ci || o.pt < 0 || o.pt > 127 || o.audio < 0 ||
	    (size_t)o.audio >= o.n_media || o.n_media > BT_SDP_MAX_MEDIA ||
	    o.n_fmts > BT_SDP_MAX_FMTS || o.n_crypto_bad > o.n_crypto)
		abort();
	if (o.crypto.key_len) {
		enum srtp_suite suite;
		size_t kl;
		struct pl name;

		pl_set_str(&name, bt_sdp_suite_name(o.crypto.suite));
		if (bt_sdp_suite_find(&name, &suite, &kl) ||
		    suite != o.crypto.suite || kl != o.crypto.key_len)
			abort();
	}
	for (size_t i = 0; i < o.n_fmts; i++)
		if (o.fmts[i].pt == o.pt && o.fmts[i].ci == o.ci)
			in_list = true;
	if (!in_list)
		abort();
	(void)sa_set_str(&la, "192.0.2.1", 30000);
	n = bt_sdp_answer_print(buf, sizeof(buf), &o, &la, 1, 1, key);
	if (n < 0)
		return 0;  /* too long for the buffer: refused, not cut */
	if ((size_t)n >= sizeof(buf) || strlen(buf) != (size_t)n)
		abort();
	for (p = buf; (p = strstr(p, "\nm=")); p += 3)
		++lines;
	/* nothing of the offer may bring its own line breaks */
	for (p = buf; *p; p++)
		if ((*p == '\r' && p[1] != '\n') ||
		    (*p == '\n' && (p == buf || p[-1] != '\r')))
			abort();
	if (lines != o.n_media)
		abort();
	(void)snprintf(want, sizeof(want), "\na=crypto:%u ", o.crypto.tag);
	p = strstr(buf, "\na=crypto:");
	if (!o.crypto.key_len != !p || (p && (strncmp(p, want, strlen(want))
					       || strstr(p + 1, "\na=crypto:"))))
		abort();
	return 0;
}
