/**
 * @file memory.c  Summaries of earlier calls by caller id (SQLite).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "banter/err.h"
#include "store/memory.h"
#include "store/store.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS memory ("
	" id INTEGER PRIMARY KEY,"
	" caller TEXT NOT NULL,"
	" at TEXT NOT NULL,"
	" summary TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS memory_caller ON memory (caller, at)";

static int open_db(sqlite3 **dbp, const char *path)
{
	int err = store_open(dbp, path);

	if (!err)
		err = store_exec(*dbp, schema);
	if (err && *dbp) {
		store_close(*dbp);
		*dbp = NULL;
	}
	return err;
}

static int run1(sqlite3 *db, const char *sql, const char *a, const char *b,
		int n, sqlite3_stmt **stp)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return bt_err(store_errno(rc), "memory: %s", sqlite3_errmsg(db));
	if (a)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
	else if (n >= 0)
		sqlite3_bind_int(st, 2, n);
	if (stp) {
		*stp = st;
		return 0;
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return bt_err(store_errno(rc), "memory: %s", sqlite3_errmsg(db));
	return 0;
}

int bt_memory_recall(const char *db_path, const char *caller,
		     unsigned days, unsigned max, char *buf, size_t sz,
		     unsigned *np)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t o = 0;
	char since[64];
	int err;

	if (!caller || !caller[0] || !buf || !sz)
		return EINVAL;
	buf[0] = '\0';
	if (np)
		*np = 0;
	err = open_db(&db, db_path);
	if (err)
		return err;
	snprintf(since, sizeof(since), "-%u days", days ? days : 36500);
	/* the retention: what is older than it goes */
	err = run1(db, "DELETE FROM memory WHERE caller = ?1 AND at < "
		   "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?2)", caller, since,
		   -1, NULL);
	if (!err)
		err = run1(db, "SELECT substr(at, 1, 10), summary FROM (SELECT "
			   "id, at, summary FROM memory WHERE caller = ?1 "
			   "ORDER BY id DESC LIMIT ?2) ORDER BY id", caller,
			   NULL, (int)(max ? max : 5), &st);
	while (!err && sqlite3_step(st) == SQLITE_ROW) {
		int k = snprintf(buf + o, sz - o, "- %s: %s\n",
				 (const char *)sqlite3_column_text(st, 0),
				 (const char *)sqlite3_column_text(st, 1));
		if (k < 0 || (size_t)k >= sz - o)
			break;
		o += (size_t)k;
		if (np)
			++*np;
	}
	sqlite3_finalize(st);
	store_close(db);
	return err;
}

int bt_memory_write(const char *db_path, const char *caller,
		    const char *summary)
{
	sqlite3 *db = NULL;
	int err;

	if (!caller || !caller[0] || !summary || !summary[0])
		return EINVAL;
	err = open_db(&db, db_path);
	if (!err)
		err = run1(db, "INSERT INTO memory (caller, at, summary) VALUES "
			   "(?1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?2)",
			   caller, summary, -1, NULL);
	store_close(db);
	return err;
}

int bt_memory_forget(const char *db_path, const char *caller, unsigned *np)
{
	sqlite3 *db = NULL;
	int err;

	if (!caller || !caller[0])
		return bt_err(EINVAL, "forget: which caller? give the id the "
			      "transport saw (a phone number, a user id)");
	err = open_db(&db, db_path);
	if (!err)
		err = run1(db, "DELETE FROM memory WHERE caller = ?1", caller,
			   NULL, -1, NULL);
	if (!err && np)
		*np = (unsigned)sqlite3_changes(db);
	store_close(db);
	return err;
}
