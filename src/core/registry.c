/**
 * @file registry.c  Provider lists (baresip style): register, find by name.
 *
 * Registration happens at bt_init() on the main thread before any session
 * exists; lookups afterwards are read-only, so no lock is needed.
 */
#include <string.h>
#include "banter/banter.h"

static struct list vads, stts, ttss, brains, tools;

#define REGISTRY(kind, lst)                                             \
	void bt_##kind##_register(struct bt_##kind *p)                  \
	{                                                               \
		if (p)                                                  \
			list_append(&lst, &p->le, p);                   \
	}                                                               \
	void bt_##kind##_unregister(struct bt_##kind *p)                \
	{                                                               \
		if (p)                                                  \
			list_unlink(&p->le);                            \
	}                                                               \
	const struct bt_##kind *bt_##kind##_find(const char *name)      \
	{                                                               \
		struct le *le;                                          \
		LIST_FOREACH(&lst, le)                                  \
		{                                                       \
			const struct bt_##kind *p = le->data;           \
			if (!name || !strcmp(p->name, name))            \
				return p;                               \
		}                                                       \
		return NULL;                                            \
	}

REGISTRY(vad, vads)
REGISTRY(stt, stts)
REGISTRY(tts, ttss)
REGISTRY(brain, brains)
REGISTRY(tool, tools)
