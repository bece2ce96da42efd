/**
 * @file flow_fx.h  The fixture of the flow brain's unit tests
 *                  (test_flow.c, test_flow_confirm.c): the brain on an
 *                  agent file (agents/restaurant.json by default) with a
 *                  real SQLite file, driven turn by turn.
 */
#ifndef BT_TEST_FLOW_FX_H
#define BT_TEST_FLOW_FX_H

#include <stdbool.h>
#include <stddef.h>
#include "banter/banter.h"

#define AGENT "agents/restaurant.json"
#define XFER_AGENT "tests/data/transfer.json"
#define XFER_LINE "Connecting you to the front desk now."
#define XFER_TO "sip:frontdesk@pbx.example"
#define Q_PARTY "How many people is the table for?"
#define Q_DAY "What day would you like to come?"
#define Q_TIME "And at what time?"
#define HOURS "We're open Tuesday to Sunday from noon to 10 pm."
#define SORRY "Sorry, could you repeat that?"

struct fx {
	const char *agent_path;  /* NULL: AGENT */
	double confirm_below;    /* > 0: set as flow.confirm_below */
	bool no_band;            /* drop the agent's own flow.confirm_below */
	const char *db_path;     /* NULL: a new temporary folder's banter.db */
	const char *intent;      /* JSON: one more of flow.intents */
	const char *confirm_node; /* ... as this node's expect's instead */
	char dir[64];
	char db[128];
	json_t *agent;
	const struct bt_brain *brain;
	struct bt_brain_st *st;
	struct bt_brain_ctx ctx;

	/* what the last turn produced */
	char text[4096];
	unsigned n_text;
	unsigned n_done;
	bool end_call;
	char grammar[64];
	bool has_grammar;
	unsigned n_tool;
	char tool_name[64];
	char tool_args[512];
	char tool_result[512];
	int tool_err;
	char transfer_to[256];
};

/*
 * A cmocka setup: *state becomes a fixture made like `init` (its agent,
 * band and database settings; the rest zero), the agent loaded, edited
 * as init says, checked, and the flow brain opened on it. The database
 * is init->db_path, or banter.db in a new temporary folder.
 */
int fx_setup(void **state, const struct fx *init);
int teardown(void **state);

/* The brain sink's handlers turn() uses (the reply into fx). */
void on_text(const char *text, void *arg);
void on_done(const struct bt_brain_done *done, void *arg);

/* One input to the brain; the reply lands in fx->text and friends. */
void turn(struct fx *fx, enum bt_brain_input_type type, const char *text,
	  float conf, unsigned idle);
/* The caller says text, heard with confidence 0.9 (above any band). */
void user(struct fx *fx, const char *text);
/* ... heard with confidence conf. */
void heard(struct fx *fx, const char *text, float conf);
/* The reply was text, and the next answer is heard with grammar. */
void expect_q(struct fx *fx, const char *text, const char *grammar);
/* The call starts: the greeting and the party question. */
void greet(struct fx *fx);
int db_count(struct fx *fx);
/* The booking with id `id`: "party|day|time|session". */
void db_row(struct fx *fx, int id, char *buf, size_t sz);

#endif
