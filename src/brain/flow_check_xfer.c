/**
 * @file flow_check_xfer.c  The load-time check of a transfer_call action
 *                          and of its node: a target a transport can use,
 *                          nothing the transfer would ignore.
 *
 * A transfer node says its line and hands the call over: on success the
 * call ends there, on failure the action's on_error goes on, so the node
 * itself has no next, end or expect.
 */
#include <string.h>
#include "brain/flow_int.h"
#include "brain/flow_check.h"
#include "brain/transfer.h"

int fc_check_transfer(const struct chk *c, const json_t *a,
		      const char *path)
{
	char full[FULL_LEN], got[64];
	const json_t *args = json_object_get(a, "args"), *to, *oe;
	int err;

	if (json_object_get(a, "save_as")) {
		fc_subpath(full, sizeof(full), path, "save_as");
		return fc_fail(c->pathp, full, "\"%s\": %s gives no result to "
			       "save; remove it", full, BT_TRANSFER_RUN);
	}
	if (!args)
		return fc_fail(c->pathp, path, "\"%s\" has no \"args\", but %s "
			       "needs the target; add \"args\": {\"to\": "
			       "\"sip:frontdesk@pbx.example\"}", path,
			       BT_TRANSFER_RUN);
	fc_subpath(full, sizeof(full), path, "args");
	err = fc_want_object(c, args, full);
	if (!err)
		err = fc_keys_ok(c, args, full, " to ");
	if (err)
		return err;
	to = json_object_get(args, "to");
	if (!to)
		return fc_fail(c->pathp, full, "\"%s\" lacks \"to\", the target "
			       "of the transfer: %s", full, BT_TRANSFER_HINT);
	fc_subpath(full, sizeof(full), full, "to");
	if (!transfer_target_ok(json_string_value(to))) {
		bt_json_brief(to, got, sizeof(got));
		return fc_fail(c->pathp, full, "\"%s\" is %s, which is no "
			       "transfer target; use %s", full, got,
			       BT_TRANSFER_HINT);
	}
	oe = json_object_get(a, "on_error");
	if (!oe)
		return 0;
	fc_subpath(full, sizeof(full), path, "on_error");
	err = fc_want_object(c, oe, full);
	if (!err)
		err = fc_keys_ok(c, oe, full, " say next ");
	if (!err)
		err = fc_check_opt_text(c, oe, "say", full, DEF_TRANSFER_ERROR);
	if (!err)
		err = fc_check_opt_node(c, oe, "next", full);
	return err;
}

int fc_check_transfer_node(const struct chk *c, const json_t *n,
			   const char *path)
{
	static const char *const keys[] = {"expect", "next", "end"};
	char full[FULL_LEN];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!json_object_get(n, keys[i]))
			continue;
		fc_subpath(full, sizeof(full), path, keys[i]);
		return fc_fail(c->pathp, full, "\"%s\": a node whose action is "
			       "%s ends in the transfer (the call is over "
			       "when it succeeds), so it has no expect, next "
			       "or end; remove \"%s\" and say where a failed "
			       "transfer goes in \"action.on_error.next\"",
			       full, BT_TRANSFER_RUN, keys[i]);
	}
	return 0;
}
