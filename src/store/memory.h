/**
 * @file memory.h  What an agent remembers of a caller across calls: a
 *                 short summary per call, by caller id, in SQLite (the
 *                 session's --db file), kept for a retention period.
 *
 * Private to libbanter and its programs. Each call opens the file: a
 * call reads once at its start and writes once at its end.
 */
#ifndef BT_STORE_MEMORY_H
#define BT_STORE_MEMORY_H

#include <stddef.h>

/**
 * The newest max summaries of caller, at most days old, oldest first, one
 * per line ("- 2026-12-04: ...") into buf. *np: how many. Older ones are
 * deleted on the way (the retention).
 */
int bt_memory_recall(const char *db_path, const char *caller,
		     unsigned days, unsigned max, char *buf, size_t sz,
		     unsigned *np);

/** Keep a call's summary for caller. */
int bt_memory_write(const char *db_path, const char *caller,
		    const char *summary);

/** Forget everything about caller; *np: the summaries deleted. */
int bt_memory_forget(const char *db_path, const char *caller, unsigned *np);

#endif
