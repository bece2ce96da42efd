/**
 * @file slot.c  Names of the slot types a grammar can be built for.
 *
 * These names are the ones agent files use ("expect": {"type": "day"}).
 */
#include <string.h>
#include "banter/stt.h"

static const char *const names[] = {
	[BT_SLOT_TEXT] = "text",
	[BT_SLOT_NUMBER] = "number",
	[BT_SLOT_DAY] = "day",
	[BT_SLOT_TIME] = "time",
	[BT_SLOT_YESNO] = "yes_no",
};

enum { N_NAMES = sizeof(names) / sizeof(names[0]) };

int bt_slot_type_parse(const char *s)
{
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < N_NAMES; i++) {
		if (names[i] && !strcmp(s, names[i]))
			return (int)i;
	}
	return -1;
}

const char *bt_slot_type_name(enum bt_slot_type t)
{
	/* an enum may hold any int: check before indexing */
	if ((int)t < 0 || (int)t >= N_NAMES || !names[t])
		return "?";
	return names[t];
}
