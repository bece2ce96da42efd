/**
 * @file transfer.h  The built-in transfer_call (the flow's action, an LLM
 *                   tool's "run"): what a target may be, checked by the
 *                   loaders. Private to src/brain.
 */
#ifndef BT_BRAIN_TRANSFER_H
#define BT_BRAIN_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>

#define BT_TRANSFER_RUN "transfer_call"
#define BT_TRANSFER_HINT "a SIP URI (\"sip:frontdesk@pbx.example\"), a " \
	"tel: URI (\"tel:+15551234567\") or a phone number of digits with " \
	"an optional + (\"+15551234567\")"

enum { TRANSFER_TO_MAX = 255 };

/** True if to is a target a transport can transfer to (BT_TRANSFER_HINT). */
bool transfer_target_ok(const char *to);

#endif
