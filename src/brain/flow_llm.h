/**
 * @file flow_llm.h  The flow's hand-off to an LLM (src/brain/flow_llm.c).
 *                   Private to src/brain; all on the session's thread.
 */
#ifndef BT_BRAIN_FLOW_LLM_H
#define BT_BRAIN_FLOW_LLM_H

#include "banter/banter.h"

struct flow_llm;

/**
 * The LLM called return_to_flow: the flow continues the response through
 * sink (the session's) and ends it.
 */
typedef void (flow_llm_back_h)(const struct bt_brain_sink *sink, void *arg);

/** The agent as the flow's LLM sees it: "brain" from llm.provider and
 *  llm.model, the return_to_flow tool added. New reference. */
json_t *flow_llm_agent(const json_t *agent);
/** The agent's "llm" section, for a flow that has an llm node. */
int flow_llm_check(const json_t *agent, const char **pathp);

int flow_llm_alloc(struct flow_llm **fp, const json_t *agent,
		   const struct bt_brain_ctx *ctx, flow_llm_back_h *backh,
		   void *backarg);
/** Answer in through the LLM (in->instructions: its system prompt). */
int flow_llm_respond(struct flow_llm *f, const struct bt_brain_input *in,
		     const struct bt_brain_sink *sink);
/** The session cancelled the response whose sink arg this is. */
void flow_llm_cancel(struct flow_llm *f, void *sink_arg);
/**
 * The call ends: the LLM writes the call's one memory record as it goes
 * (the model's summary of the whole call when the agent's llm.memory asks
 * for one), from the newest history the flow saw and flow_extract (the
 * flow's slots and tools) with what was asked, answered and done during
 * the hand-off after it, the extractive record. Before freeing f.
 */
void flow_llm_record(struct flow_llm *f, const char *caller,
		     const char *history_json, const char *flow_extract);

#endif
