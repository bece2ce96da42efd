/**
 * @file transfer.c  What a transfer target may be. The loaders refuse
 *                   anything else, so a transport never gets a target it
 *                   would have to guess at (and a model never names one:
 *                   its choices come from the agent file).
 */
#include <string.h>
#include <strings.h>
#include <re.h>
#include "brain/transfer.h"

/* [+]digits, with tel:'s visual separators where allowed; 3 to 32 digits */
static bool number_ok(const char *p, bool separators)
{
	size_t digits = 0;

	if (*p == '+')
		++p;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			++digits;
		else if (!separators || !strchr("-.()", *p))
			return false;
	}
	return digits >= 3 && digits <= 32;
}

static bool sip_ok(const char *to)
{
	struct uri uri;
	struct pl pl;

	for (const char *p = to; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    strchr("<>\"", *p))
			return false;
	pl_set_str(&pl, to);
	if (uri_decode(&uri, &pl))
		return false;
	return uri.host.l > 0 && (!pl_strcasecmp(&uri.scheme, "sip") ||
				  !pl_strcasecmp(&uri.scheme, "sips"));
}

bool transfer_target_ok(const char *to)
{
	size_t n = to ? strlen(to) : 0;

	if (!n || n > TRANSFER_TO_MAX)
		return false;
	if (!strncasecmp(to, "sip:", 4) || !strncasecmp(to, "sips:", 5))
		return sip_ok(to);
	if (!strncasecmp(to, "tel:", 4))
		return number_ok(to + 4, true);
	return number_ok(to, false);
}
