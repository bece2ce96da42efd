/**
 * @file sqlite.c  SQLite helpers: open with a busy timeout, run SQL.
 */
#include <errno.h>
#include <stddef.h>
#include "banter/err.h"
#include "store/store.h"

int store_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return EBUSY;
	case SQLITE_NOMEM: return ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH: return EACCES;
	case SQLITE_CANTOPEN: return ENOENT;
	case SQLITE_FULL: return ENOSPC;
	case SQLITE_IOERR: return EIO;
	default: return EINVAL;
	}
}

int store_open(sqlite3 **dbp, const char *path)
{
	sqlite3 *db = NULL;
	int rc, err;

	if (!dbp || !path || !*path)
		return bt_err(EINVAL, "no database file given; pass one "
			      "(e.g. --db banter.db)");

	rc = sqlite3_open_v2(path, &db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err = bt_err(store_errno(rc), "cannot open the database %s: "
			     "%s; check that its folder exists and is "
			     "writable", path,
			     db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return err;
	}
	sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
	*dbp = db;
	return 0;
}

int store_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc, err;

	if (!db || !sql)
		return EINVAL;
	rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	err = bt_err(store_errno(rc), "database error: %s (%s)",
		     msg ? msg : sqlite3_errstr(rc), sqlite3_db_filename(db,
								       "main"));
	sqlite3_free(msg);
	return err;
}

void store_close(sqlite3 *db)
{
	sqlite3_close(db);
}
