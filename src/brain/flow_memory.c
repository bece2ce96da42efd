/**
 * @file flow_memory.c  What a flow agent with "flow.memory": true leaves
 *                      for the caller's next call: an extractive summary
 *                      of the slots it gathered and the tools it ran
 *                      ("party 4, day Friday, time 8 pm; booking.save
 *                      done: booking_id 12"), written at the call's end
 *                      into the store an LLM agent recalls from
 *                      (llm_memory.c). One record per call: a flow
 *                      that handed the call to its LLM gives that brain
 *                      its record to complete (what was asked, answered
 *                      and done during the hand-off) and write, as the
 *                      model's summary if the llm section asks for one.
 */
#include <string.h>
#include "brain/flow_llm.h"
#include "brain/flow_memory.h"
#include "brain/llm_int.h"

/* A plain value as text: 4, Friday, yes; objects and lists are left out. */
static bool plain_text(const json_t *v, char *buf, size_t sz)
{
	if (json_is_string(v))
		snprintf(buf, sz, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, sz, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sz, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, sz, "%s", json_is_true(v) ? "yes" : "no");
	else
		return false;
	return true;
}

/* Append to buf at *o; false once it is full (what fitted stays). */
static bool put(char *buf, size_t sz, size_t *o, const char *sep,
		const char *a, const char *b)
{
	int k = snprintf(buf + *o, sz - *o, "%s%s%s%s", sep, a, b[0] ? " " : "",
			 b);

	if (k < 0 || (size_t)k >= sz - *o) {
		buf[*o] = '\0';
		return false;
	}
	*o += (size_t)k;
	return true;
}

void flow_memory_action(json_t *acts, const char *tool, const json_t *result,
			int err, const char *why)
{
	char line[300], v[96];
	size_t o = 0;
	const char *k;
	const json_t *e;

	if (!acts || !tool)
		return;
	if (err) {
		snprintf(line, sizeof(line), "%s failed (%.200s)", tool,
			 why && why[0] ? why : strerror(err));
		json_array_append_new(acts, json_string(line));
		return;
	}
	if (!put(line, sizeof(line), &o, "", tool, "done"))
		return;
	/* its result's plain fields, the ones a caller may ask about again
	 * (a booking number) */
	json_object_foreach((json_t *)result, k, e) {
		char kv[160];

		if (!plain_text(e, v, sizeof(v)))
			continue;
		snprintf(kv, sizeof(kv), "%s %s", k, v);
		if (!put(line, sizeof(line), &o, o > strlen(tool) + 5 ? ", " :
			 ": ", kv, ""))
			break;
	}
	json_array_append_new(acts, json_string(line));
}

void flow_memory_extract(const json_t *spoken, const json_t *vars,
			 const json_t *acts, char *buf, size_t sz)
{
	size_t o = 0, i;
	const char *k;
	const json_t *e;
	char v[96];
	bool any = false;

	buf[0] = '\0';
	/* the slots in the order they were gathered, as typed values */
	json_object_foreach((json_t *)spoken, k, e) {
		const json_t *tv = json_object_get(vars, k);

		if (!plain_text(tv ? tv : e, v, sizeof(v)))
			continue;
		if (!put(buf, sz, &o, any ? ", " : "the caller gave ", k, v))
			return;
		any = true;
	}
	json_array_foreach(acts, i, e) {
		if (!put(buf, sz, &o, o ? "; " : "", json_string_value(e), ""))
			return;
	}
}

void flow_memory_write(const char *db, const char *caller,
		       const json_t *spoken, const json_t *vars,
		       const json_t *acts)
{
	char summary[1024];

	if (!caller || !caller[0])
		return;
	flow_memory_extract(spoken, vars, acts, summary, sizeof(summary));
	/* a call that gathered nothing and ran nothing leaves nothing */
	llm_memory_store(db, caller, summary);
}

void flow_memory_end(const char *db, const char *caller,
		     const json_t *spoken, const json_t *vars,
		     const json_t *acts, const char *history_json,
		     struct flow_llm *llm)
{
	char summary[1024];

	if (!caller || !caller[0])
		return;
	if (!llm) {
		flow_memory_write(db, caller, spoken, vars, acts);
		return;
	}
	/* the call was handed to the LLM: its brain writes the record,
	 * the hand-off part in it, the model's summary if asked for */
	flow_memory_extract(spoken, vars, acts, summary, sizeof(summary));
	flow_llm_record(llm, caller, history_json, summary);
}
