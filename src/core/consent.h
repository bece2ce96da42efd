/**
 * @file consent.h  The agent file's "recording" section, for the loader
 *                  and the programs (private to libbanter and banter).
 */
#ifndef BT_CORE_CONSENT_H
#define BT_CORE_CONSENT_H

#include <jansson.h>

struct bt_agent;

/**
 * Check the "recording" section of an agent file (absent is fine). On
 * error returns EINVAL with bt_errmsg() set and *pathp at the field.
 */
int bt_recording_check(const json_t *root, const char **pathp);

/**
 * Where the agent's recordings go, and how many days they are kept
 * (*daysp: 0 = forever); NULL if the agent does not record.
 */
const char *bt_recording_dir(const struct bt_agent *a, unsigned *daysp);

#endif
