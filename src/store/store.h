/**
 * @file store.h  SQLite helpers for persistence (private to libbanter).
 *
 * A store handle is a plain sqlite3 connection opened with a busy timeout,
 * so that two sessions (or a reader such as `sqlite3 banter.db`) writing
 * the same file wait for each other instead of failing at once. Calls
 * block on disk I/O: run them off the real-time path where it matters.
 */
#ifndef BANTER_STORE_H
#define BANTER_STORE_H

#include <sqlite3.h>

enum { STORE_BUSY_TIMEOUT_MS = 2000 };

/**
 * Open (creating if needed) the SQLite file `path`. On error returns an
 * errno value and sets bt_errmsg(). Close with store_close().
 */
int store_open(sqlite3 **dbp, const char *path);

/** Run SQL without results (schema, pragmas); errors set bt_errmsg(). */
int store_exec(sqlite3 *db, const char *sql);

/** Close a handle from store_open(); NULL is fine. */
void store_close(sqlite3 *db);

/** An errno value for an SQLite result code. */
int store_errno(int rc);

#endif
