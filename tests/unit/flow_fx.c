/**
 * @file flow_fx.c  The fixture of the flow brain's unit tests (flow_fx.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "banter/banter.h"
#include "brain/flow_int.h"
#include "flow_fx.h"

void on_text(const char *text, void *arg)
{
	struct fx *fx = arg;
	size_t len = strlen(fx->text);

	assert_non_null(text);
	snprintf(fx->text + len, sizeof(fx->text) - len, "%s%s",
		 len ? " " : "", text);
	fx->n_text++;
}

void on_done(const struct bt_brain_done *done, void *arg)
{
	struct fx *fx = arg;

	fx->n_done++;
	fx->end_call = done->end_call;
	snprintf(fx->transfer_to, sizeof(fx->transfer_to), "%s",
		 done->transfer_to ? done->transfer_to : "");
	fx->has_grammar = done->grammar != NULL;
	snprintf(fx->grammar, sizeof(fx->grammar), "%s",
		 done->grammar ? done->grammar : "");
}

static void on_tool(const char *name, const char *args_json,
		    const char *result_json, int err, void *arg)
{
	struct fx *fx = arg;

	fx->n_tool++;
	snprintf(fx->tool_name, sizeof(fx->tool_name), "%s", name);
	snprintf(fx->tool_args, sizeof(fx->tool_args), "%s", args_json);
	snprintf(fx->tool_result, sizeof(fx->tool_result), "%s",
		 result_json ? result_json : "");
	fx->tool_err = err;
}

static int setup_db(struct fx *fx, const char *db_path)
{
	json_error_t jerr;
	const char *path = NULL;
	int err;
	const char *file = fx->agent_path ? fx->agent_path : AGENT;

	fx->agent = json_load_file(file, 0, &jerr);
	if (!fx->agent) {
		print_error("%s:%d: %s\n", file, jerr.line, jerr.text);
		return -1;
	}
	if (fx->intent)
		json_array_append_new(json_object_get(json_object_get(
			fx->agent, "flow"), "intents"),
			json_loads(fx->intent, 0, NULL));
	if (fx->no_band)
		json_object_del(json_object_get(fx->agent, "flow"),
				"confirm_below");
	if (fx->confirm_below > 0.0) {
		json_t *flow = json_object_get(fx->agent, "flow");
		json_t *to = fx->confirm_node ? json_object_get(json_object_get(
			json_object_get(flow, "nodes"), fx->confirm_node),
			"expect") : flow;

		json_object_set_new(to, "confirm_below",
				    json_real(fx->confirm_below));
		if (fx->confirm_node)
			json_object_set_new(to, "confirm_say", json_string(
				"Did you say {value} on {day}?"));
	}
	bt_brain_flow_init();
	bt_tool_booking_init();
	fx->brain = bt_brain_find("flow");
	if (!fx->brain)
		return -1;
	err = fx->brain->checkh(fx->agent, &path);
	if (err) {
		print_error("check: %s at %s\n", bt_errmsg(), path);
		return -1;
	}
	fx->ctx.db_path = db_path ? db_path : fx->db;
	fx->ctx.session_id = "test-session";
	return fx->brain->alloch(&fx->st, fx->agent, &fx->ctx);
}

int fx_setup(void **state, const struct fx *init)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->agent_path = init->agent_path;
	fx->confirm_below = init->confirm_below;
	fx->confirm_node = init->confirm_node;
	fx->no_band = init->no_band;
	fx->intent = init->intent;
	*state = fx;
	if (!init->db_path) {
		snprintf(fx->dir, sizeof(fx->dir), "/tmp/bt_test_flow_XXXXXX");
		if (!mkdtemp(fx->dir)) {
			fx->dir[0] = '\0';
			return -1;
		}
		snprintf(fx->db, sizeof(fx->db), "%s/banter.db", fx->dir);
	}
	return setup_db(fx, init->db_path);
}

int teardown(void **state)
{
	struct fx *fx = *state;

	mem_deref(fx->st);
	json_decref(fx->agent);
	if (fx->dir[0]) {
		unlink(fx->db);
		rmdir(fx->dir);
	}
	free(fx);
	return 0;
}

void turn(struct fx *fx, enum bt_brain_input_type type,
		 const char *text, float conf, unsigned idle)
{
	struct bt_brain_input in = {
		.type = type, .text = text, .confidence = conf,
		.idle_count = idle,
	};
	struct bt_brain_sink sink = {
		.texth = on_text, .doneh = on_done, .toolh = on_tool,
		.arg = fx,
	};

	fx->text[0] = '\0';
	fx->n_text = 0;
	fx->n_done = 0;
	fx->end_call = false;
	fx->grammar[0] = '\0';
	fx->has_grammar = false;
	fx->n_tool = 0;
	assert_int_equal(fx->brain->respondh(fx->st, &in, &sink), 0);
	/* exactly one done per reply, at most one text (the whole reply) */
	assert_int_equal(fx->n_done, 1);
	assert_true(fx->n_text <= 1);
}

void user(struct fx *fx, const char *text)
{
	turn(fx, BT_BRAIN_USER, text, 0.9f, 0);
}

void expect_q(struct fx *fx, const char *text, const char *grammar)
{
	assert_string_equal(fx->text, text);
	assert_false(fx->end_call);
	assert_string_equal(fx->grammar, grammar);
}

int db_count(struct fx *fx)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int n = -1;

	if (sqlite3_open_v2(fx->db, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM bookings", -1, &stmt,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

void db_row(struct fx *fx, int id, char *buf, size_t sz)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;

	buf[0] = '\0';
	assert_int_equal(sqlite3_open_v2(fx->db, &db, SQLITE_OPEN_READONLY,
					 NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT party, day, time, "
					    "session_id, created_at FROM "
					    "bookings WHERE id = ?", -1,
					    &stmt, NULL), SQLITE_OK);
	sqlite3_bind_int(stmt, 1, id);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		assert_int_equal(sqlite3_column_type(stmt, 0), SQLITE_INTEGER);
		/* created_at looks like 2024-05-07T19:00:00Z */
		assert_int_equal(strlen((const char *)
					sqlite3_column_text(stmt, 4)), 20);
		snprintf(buf, sz, "%d|%s|%s|%s", sqlite3_column_int(stmt, 0),
			 sqlite3_column_text(stmt, 1),
			 sqlite3_column_text(stmt, 2),
			 sqlite3_column_text(stmt, 3));
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

void greet(struct fx *fx)
{
	turn(fx, BT_BRAIN_START, NULL, 0, 0);
	expect_q(fx, "Hello, thanks for calling Bella's Trattoria. " Q_PARTY,
		 "party");
}

void heard(struct fx *fx, const char *text, float conf)
{
	turn(fx, BT_BRAIN_USER, text, conf, 0);
}
