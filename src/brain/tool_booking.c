/**
 * @file tool_booking.c  The built-in tool "booking.save": a table booking
 *                       as one row in SQLite.
 *
 * args:   {"party": 3, "day": "Tuesday", "time": "7 pm"}
 * result: {"booking_id": 7}
 *
 * The file is opened per call: a booking happens once a call, and a
 * connection held for the whole session would keep the file locked from
 * other sessions for nothing. The busy timeout makes concurrent sessions
 * wait for each other rather than fail.
 */
#include <errno.h>
#include <string.h>
#include "banter/banter.h"
#include "store/store.h"

enum { PARTY_MAX = 1000 };

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS bookings ("
	" id INTEGER PRIMARY KEY,"
	" created_at TEXT,"
	" session_id TEXT,"
	" party INTEGER,"
	" day TEXT,"
	" time TEXT)";

static const char insert_sql[] =
	"INSERT INTO bookings (created_at, session_id, party, day, time)"
	" VALUES (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, ?, ?, ?)";

static int booking_args(const json_t *args, json_int_t *partyp,
			const char **dayp, const char **timep)
{
	const json_t *party = json_object_get(args, "party");
	const char *day = json_string_value(json_object_get(args, "day"));
	const char *tm = json_string_value(json_object_get(args, "time"));

	if (!json_is_integer(party) || json_integer_value(party) < 1 ||
	    json_integer_value(party) > PARTY_MAX)
		return bt_err(EINVAL, "booking.save: \"party\" must be an "
			      "integer from 1 to %d; pass the party size slot "
			      "as \"party\": \"{party}\"", PARTY_MAX);
	if (!day || !*day)
		return bt_err(EINVAL, "booking.save: \"day\" must be a "
			      "non-empty string, e.g. \"{day}\"");
	if (!tm || !*tm)
		return bt_err(EINVAL, "booking.save: \"time\" must be a "
			      "non-empty string, e.g. \"{time}\"");

	*partyp = json_integer_value(party);
	*dayp = day;
	*timep = tm;
	return 0;
}

static int booking_call(const json_t *args, const struct bt_brain_ctx *ctx,
			json_t **resultp)
{
	const char *path = ctx && ctx->db_path ? ctx->db_path : "banter.db";
	const char *sid = ctx ? ctx->session_id : NULL;
	const char *day = NULL, *tm = NULL;
	json_int_t party = 0;
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	json_t *res;
	int rc, err;

	if (!resultp)
		return bt_err(EINVAL, "booking.save: no result pointer");

	err = booking_args(args, &party, &day, &tm);
	if (err)
		return err;

	err = store_open(&db, path);
	if (err)
		goto out;
	err = store_exec(db, schema);
	if (err)
		goto out;

	rc = sqlite3_prepare_v2(db, insert_sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sid ? sqlite3_bind_text(stmt, 1, sid, -1, SQLITE_STATIC)
			 : sqlite3_bind_null(stmt, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 2, party);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 3, day, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 4, tm, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		err = bt_err(store_errno(rc), "booking.save: cannot save the "
			     "booking in %s: %s", path, sqlite3_errmsg(db));
		goto out;
	}

	res = json_pack("{s:I}", "booking_id",
			(json_int_t)sqlite3_last_insert_rowid(db));
	if (!res) {
		err = bt_err(ENOMEM, "booking.save: out of memory");
		goto out;
	}
	*resultp = res;

 out:
	sqlite3_finalize(stmt);
	store_close(db);
	return err;
}

/* what booking_args() requires, for the flow's check at load */
static const struct bt_tool_arg booking_decl[] = {
	{"party", BT_TOOL_ARG_INT, false, 1, PARTY_MAX},
	{"day", BT_TOOL_ARG_TEXT, false, 0, 0},
	{"time", BT_TOOL_ARG_TEXT, false, 0, 0},
	{NULL, BT_TOOL_ARG_ANY, false, 0, 0},
};
static const char *const booking_result[] = {"booking_id", NULL};

static struct bt_tool booking = {
	.name = "booking.save",
	.callh = booking_call,
	.args = booking_decl,
	.result_keys = booking_result,
};

int bt_tool_booking_init(void)
{
	if (!booking.le.list)
		bt_tool_register(&booking);
	return 0;
}
