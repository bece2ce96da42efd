/**
 * @file planner.c  Sentence chunking for streaming TTS.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include "core/planner.h"

/* A clause shorter than this waits for its sentence: a voice says a short
 * fragment with the wrong melody, and a short sentence comes soon anyway. */
#define CLAUSE_MIN 60

static bool is_abbrev(const char *buf, size_t dot)
{
	static const char *abbr[] = {"mr", "mrs", "ms", "dr", "st", "vs",
				     "etc", "e.g", "i.e", "no"};
	size_t start = dot;

	while (start > 0 && !isspace((unsigned char)buf[start - 1]))
		--start;
	for (size_t i = 0; i < sizeof(abbr) / sizeof(abbr[0]); i++) {
		size_t l = strlen(abbr[i]);
		if (dot - start == l && !strncasecmp(buf + start, abbr[i], l))
			return true;
	}
	return false;
}

size_t bt_planner_sentence(const char *buf, size_t len, bool final)
{
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		size_t end;

		if (c != '.' && c != '!' && c != '?')
			continue;
		/* the punctuation must be followed by white space */
		if (i + 1 >= len)
			break;
		if (!isspace((unsigned char)buf[i + 1])) {
			continue;
		}
		if (c == '.' && is_abbrev(buf, i))
			continue;
		end = i + 1;
		while (end < len && isspace((unsigned char)buf[end]))
			++end;
		return end;
	}
	if (final)
		return len;
	/* a long sentence still streaming: its first clause goes now, so
	 * the voice starts while the model writes the rest */
	for (size_t i = CLAUSE_MIN; i + 1 < len; i++) {
		char c = buf[i];
		size_t end;

		if ((c != ',' && c != ';' && c != ':') ||
		    !isspace((unsigned char)buf[i + 1]))
			continue;
		end = i + 1;
		while (end < len && isspace((unsigned char)buf[end]))
			++end;
		return end;
	}
	return 0;
}
