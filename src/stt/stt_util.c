/**
 * @file stt_util.c  Helpers the recognisers share (stt/stt_int.h).
 */
#include <string.h>
#include <re.h>
#include "stt/stt_int.h"

static bool word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

void stt_text_norm(char *out, size_t sz, const char *in)
{
	size_t k = 0;

	if (!sz)
		return;
	for (; *in && k + 1 < sz; in++) {
		unsigned char c = (unsigned char)*in;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (word_char(c)) {
			out[k++] = (char)c;
		}
		else if ((c == '\'' || c == '-') && k && out[k - 1] != ' ' &&
			 word_char((unsigned char)in[1] | 0x20)) {
			out[k++] = (char)c;  /* inside a word */
		}
		else if (k && out[k - 1] != ' ') {
			out[k++] = ' ';
		}
	}
	while (k && out[k - 1] == ' ')
		--k;
	out[k] = '\0';
}

void stt_audio_add(struct stt_audio *a, const int16_t *pcm, size_t n,
		   size_t max_n)
{
	if (a->n + n > a->cap && a->cap < max_n) {
		size_t cap = (a->n + n) * 2;
		int16_t *p;

		if (cap > max_n)
			cap = max_n;
		/* libre's mem_realloc does not take NULL */
		p = a->pcm ? mem_realloc(a->pcm, cap * sizeof(*p)) :
			mem_alloc(cap * sizeof(*p), NULL);
		if (p) {
			a->pcm = p;
			a->cap = cap;
		}
	}
	if (a->n + n <= a->cap) {
		memcpy(a->pcm + a->n, pcm, n * sizeof(*pcm));
		a->n += n;
	}
}
