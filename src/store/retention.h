/**
 * @file retention.h  Deleting old recordings (private to libbanter and
 *                    banter serve).
 */
#ifndef BT_STORE_RETENTION_H
#define BT_STORE_RETENTION_H

#include <stddef.h>

struct bt_agent;
struct bt_retention;

/**
 * For each agent that records with a "retention_days", delete its older
 * recordings now (printing what went), then every hour on the worker
 * pool from a timer on the calling thread's event loop. *rtp is NULL when
 * no agent has a retention period; mem_deref() stops it.
 */
int bt_retention_start(struct bt_retention **rtp,
		       struct bt_agent *const *agents, size_t n_agents);

#endif
