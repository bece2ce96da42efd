/**
 * @file flow_memory.h  A flow agent's memory across calls
 *                      (src/brain/flow_memory.c). Private to src/brain.
 */
#ifndef BT_BRAIN_FLOW_MEMORY_H
#define BT_BRAIN_FLOW_MEMORY_H

#include "banter/banter.h"

/** A tool the flow ran, as one line of the summary, onto acts. */
void flow_memory_action(json_t *acts, const char *tool, const json_t *result,
			int err, const char *why);
/** The summary: the slots gathered (spoken's keys, vars' values), then
 *  the tools run. "" when there is neither. */
void flow_memory_extract(const json_t *spoken, const json_t *vars,
			 const json_t *acts, char *buf, size_t sz);
/** Store the summary for caller (the worker pool on a loop; inline
 *  without one); nothing when it is empty or the caller unknown. */
void flow_memory_write(const char *db, const char *caller,
		       const json_t *spoken, const json_t *vars,
		       const json_t *acts);

struct flow_llm;

/** The call ends: its record for caller, as flow_memory_write, or, when
 *  the call was handed to llm, by that brain (flow_llm_record) with the
 *  hand-off part and the newest history the flow saw. Before llm is
 *  freed. */
void flow_memory_end(const char *db, const char *caller,
		     const json_t *spoken, const json_t *vars,
		     const json_t *acts, const char *history_json,
		     struct flow_llm *llm);

#endif
