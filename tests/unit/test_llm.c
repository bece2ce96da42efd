/**
 * @file test_llm.c  The LLM brain's pure parts: the server-sent events
 *                   parser (src/net/sse.c) and both wire formats
 *                   (src/brain/llm_wire.c): request bodies and streamed
 *                   events as the providers' documentation shows them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "brain/llm_int.h"
#include "net/sse.h"

struct evs {
	char log[2048];
	size_t n;
};

static int on_ev(const char *event, const char *data, size_t len, void *arg)
{
	struct evs *e = arg;
	size_t l = strlen(e->log);

	assert_int_equal(strlen(data), len);
	snprintf(e->log + l, sizeof(e->log) - l, "[%s|%s]", event, data);
	e->n++;
	return 0;
}

static void test_sse_lines(void **state)
{
	const char *s = ": keep-alive\r\nevent: ping\r\ndata: {\"a\":1}\r\n\r\n"
			"data: one\ndata: two\n\ndata:x\r\rid: 7\nretry: 9\n"
			"event: e\n\n";
	struct bt_sse *p = NULL;
	struct evs e;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(bt_sse_alloc(&p, 0, on_ev, &e), 0);
	assert_int_equal(bt_sse_feed(p, s, strlen(s)), 0);
	/* an event with no data is not dispatched */
	assert_string_equal(e.log, "[ping|{\"a\":1}][|one\ntwo][|x]");
	mem_deref(p);
}

/* The same stream cut at every byte gives the same events. */
static void test_sse_split(void **state)
{
	const char *s = "event: a\r\ndata: hello\r\n\r\ndata: [DONE]\r\n\r\n";
	size_t n = strlen(s);

	(void)state;
	for (size_t cut = 0; cut <= n; cut++) {
		struct bt_sse *p = NULL;
		struct evs e;

		memset(&e, 0, sizeof(e));
		assert_int_equal(bt_sse_alloc(&p, 0, on_ev, &e), 0);
		assert_int_equal(bt_sse_feed(p, s, cut), 0);
		assert_int_equal(bt_sse_feed(p, s + cut, n - cut), 0);
		assert_string_equal(e.log, "[a|hello][|[DONE]]");
		assert_int_equal(bt_sse_pending(p), 0);
		mem_deref(p);
	}
}

static void test_sse_limit(void **state)
{
	struct bt_sse *p = NULL;
	struct evs e;
	char big[300];

	(void)state;
	memset(&e, 0, sizeof(e));
	memset(big, 'x', sizeof(big));
	assert_int_equal(bt_sse_alloc(&p, 256, on_ev, &e), 0);
	assert_int_equal(bt_sse_feed(p, "data: ", 6), 0);
	assert_int_equal(bt_sse_feed(p, big, sizeof(big)), EMSGSIZE);
	mem_deref(p);
}

struct got {
	char text[512];
	char id[4][64], name[4][64], args[4][256];
	char finish[32], err[256];
};

static void g_text(const char *t, void *arg)
{
	struct got *g = arg;
	strncat(g->text, t, sizeof(g->text) - strlen(g->text) - 1);
}

static void g_tool(unsigned i, const char *id, const char *name,
		   const char *args, void *arg)
{
	struct got *g = arg;

	assert_true(i < 4);
	if (id)
		snprintf(g->id[i], sizeof(g->id[i]), "%s", id);
	if (name)
		strncat(g->name[i], name, sizeof(g->name[i]) -
			strlen(g->name[i]) - 1);
	if (args)
		strncat(g->args[i], args, sizeof(g->args[i]) -
			strlen(g->args[i]) - 1);
}

static void g_finish(const char *r, void *arg)
{
	struct got *g = arg;
	snprintf(g->finish, sizeof(g->finish), "%s", r);
}

static void g_err(const char *m, void *arg)
{
	struct got *g = arg;
	snprintf(g->err, sizeof(g->err), "%s", m);
}

static void feed(enum llm_wire w, const char *const *ev, struct got *g,
		 bool *endp)
{
	struct llm_stream_h h = {g_text, g_tool, g_finish, g_err, g};

	for (size_t i = 0; ev[i]; i++)
		assert_int_equal(llm_wire_event(w, "", ev[i], &h, endp), 0);
}

static void test_openai_stream(void **state)
{
	/* the shapes of the chat completions streaming reference: role
	 * first, content deltas, tool_calls assembled by index, usage in a
	 * chunk with no choices, then [DONE] */
	static const char *const ev[] = {
	"{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}",
	"{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Let me\"},\"finish_reason\":null}]}",
	"{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" check.\"},\"finish_reason\":null}]}",
	"{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"hours\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}",
	"{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"da\"}}]},\"finish_reason\":null}]}",
	"{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"end_call\",\"arguments\":\"{}\"}}]},\"finish_reason\":null}]}",
	"{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"y\\\":1}\"}}]},\"finish_reason\":null}]}",
	"{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}",
	"{\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":12,\"total_tokens\":21}}",
	NULL};
	struct llm_stream_h h = {g_text, g_tool, g_finish, g_err, NULL};
	struct got g;
	bool end = false;

	(void)state;
	memset(&g, 0, sizeof(g));
	h.arg = &g;
	feed(WIRE_OPENAI, ev, &g, &end);
	assert_false(end);
	assert_int_equal(llm_wire_event(WIRE_OPENAI, "", "[DONE]", &h, &end),
			 0);
	assert_true(end);
	assert_string_equal(g.text, "Let me check.");
	assert_string_equal(g.id[0], "call_a");
	assert_string_equal(g.name[0], "hours");
	assert_string_equal(g.args[0], "{\"day\":1}");
	assert_string_equal(g.name[1], "end_call");
	assert_string_equal(g.finish, "tool_calls");
	assert_int_equal(llm_wire_event(WIRE_OPENAI, "", "{\"choices\":[{\"de",
					&h, &end), EPROTO);
	assert_int_equal(llm_wire_event(WIRE_OPENAI, "", "{\"error\":{\"message"
		"\":\"overloaded\",\"type\":\"server_error\"}}", &h, &end), 0);
	assert_string_equal(g.err, "server_error: overloaded");
}

static void test_anthropic_stream(void **state)
{
	/* the Messages streaming reference's event sequence */
	static const char *const ev[] = {
	"{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude\",\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}",
	"{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
	"{\"type\":\"ping\"}",
	"{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}",
	"{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"!\"}}",
	"{\"type\":\"content_block_stop\",\"index\":0}",
	"{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"hours\",\"input\":{}}}",
	"{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}",
	"{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"day\\\": \"}}",
	"{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"mon\\\"}\"}}",
	"{\"type\":\"content_block_stop\",\"index\":1}",
	"{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}",
	"{\"type\":\"message_stop\"}",
	NULL};
	struct got g;
	bool end = false;
	struct llm_stream_h h = {g_text, g_tool, g_finish, g_err, NULL};

	(void)state;
	memset(&g, 0, sizeof(g));
	h.arg = &g;
	feed(WIRE_ANTHROPIC, ev, &g, &end);
	assert_true(end);
	assert_string_equal(g.text, "Hello!");
	assert_string_equal(g.id[1], "toolu_1");
	assert_string_equal(g.name[1], "hours");
	assert_string_equal(g.args[1], "{\"day\": \"mon\"}");
	assert_string_equal(g.finish, "tool_calls");
	assert_int_equal(llm_wire_event(WIRE_ANTHROPIC, "error",
		"{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
		"\"message\":\"Overloaded\"}}", &h, &end), 0);
	assert_string_equal(g.err, "overloaded_error: Overloaded");
	assert_int_equal(llm_wire_event(WIRE_ANTHROPIC, "", "{\"x\":1}", &h,
					&end), EPROTO);
}

static json_t *neutral(void)
{
	return json_loads(
	"[{\"role\":\"assistant\",\"content\":\"Hello, how can I help?\"},"
	" {\"role\":\"user\",\"content\":\"hours\"},"
	" {\"role\":\"assistant\",\"content\":\"Let me\",\"tool_calls\":"
	"   [{\"id\":\"c1\",\"name\":\"hours\",\"arguments\":\"{\\\"d\\\":1}\"}]},"
	" {\"role\":\"tool\",\"tool_call_id\":\"c1\",\"name\":\"hours\","
	"   \"content\":\"{\\\"h\\\":\\\"noon\\\"}\"},"
	" {\"role\":\"assistant\",\"content\":\"We open at\","
	"   \"interrupted\":true},"
	" {\"role\":\"user\",\"content\":\"thanks\"}]", 0, NULL);
}

static void test_bodies(void **state)
{
	struct llm_target t;
	struct llm_req rq;
	json_t *m = neutral(), *b, *tools;
	char *body = NULL;

	(void)state;
	memset(&t, 0, sizeof(t));
	snprintf(t.model, sizeof(t.model), "m1");
	tools = json_loads("[{\"name\":\"hours\",\"description\":\"d\","
			   "\"run\":\"end_call\"}]", 0, NULL);
	memset(&rq, 0, sizeof(rq));
	rq.t = &t;
	rq.system = "Be brief.";
	rq.tools = tools;
	rq.max_tokens = 100;
	rq.temperature = -1;

	t.wire = WIRE_OPENAI;
	assert_int_equal(llm_wire_body(&rq, m, &body), 0);
	b = json_loads(body, 0, NULL);
	assert_non_null(b);
	assert_true(json_is_true(json_object_get(b, "stream")));
	assert_null(json_object_get(b, "temperature"));
	{
		json_t *ms = json_object_get(b, "messages");
		assert_int_equal(json_array_size(ms), 7);
		assert_string_equal(json_string_value(json_object_get(
			json_array_get(ms, 0), "role")), "system");
		assert_string_equal(json_string_value(json_object_get(
			json_array_get(ms, 4), "tool_call_id")), "c1");
		assert_string_equal(json_string_value(json_object_get(
			json_array_get(ms, 5), "content")),
			"We open at [the caller interrupted me here]");
		assert_string_equal(json_string_value(json_object_get(
			json_object_get(json_array_get(json_object_get(
			json_array_get(ms, 3), "tool_calls"), 0), "function"),
			"arguments")), "{\"d\":1}");
	}
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_array_get(json_object_get(b, "tools"), 0), "function"),
		"name")), "hours");
	json_decref(b);
	body = mem_deref(body);

	t.wire = WIRE_ANTHROPIC;
	assert_int_equal(llm_wire_body(&rq, m, &body), 0);
	b = json_loads(body, 0, NULL);
	assert_non_null(b);
	assert_string_equal(json_string_value(json_object_get(b, "system")),
			    "Be brief.");
	{
		json_t *ms = json_object_get(b, "messages");
		json_t *m3;
		size_t i;
		json_t *x;

		/* user first; roles alternate; the tool result is a user
		 * block; the input is an object */
		assert_string_equal(json_string_value(json_object_get(
			json_array_get(ms, 0), "role")), "user");
		json_array_foreach(ms, i, x)
			if (i)
				assert_string_not_equal(json_string_value(
				json_object_get(x, "role")), json_string_value(
				json_object_get(json_array_get(ms, i - 1),
						"role")));
		m3 = json_object_get(json_array_get(ms, 3), "content");
		assert_string_equal(json_string_value(json_object_get(
			json_array_get(m3, 1), "type")), "tool_use");
		assert_true(json_is_object(json_object_get(json_array_get(m3,
			1), "input")));
		assert_string_equal(json_string_value(json_object_get(
			json_array_get(json_object_get(json_array_get(ms, 4),
			"content"), 0), "type")), "tool_result");
	}
	assert_non_null(json_object_get(json_array_get(json_object_get(b,
		"tools"), 0), "input_schema"));
	json_decref(b);
	mem_deref(body);
	json_decref(m);
	json_decref(tools);
}

static void test_errmsg(void **state)
{
	char buf[200];

	(void)state;
	llm_wire_errmsg("{\"error\":{\"message\":\"Rate limit reached\","
			"\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}",
			buf, sizeof(buf));
	assert_string_equal(buf, "requests: Rate limit reached");
	llm_wire_errmsg("{\"type\":\"error\",\"error\":{\"type\":"
			"\"overloaded_error\",\"message\":\"Overloaded\"}}",
			buf, sizeof(buf));
	assert_string_equal(buf, "overloaded_error: Overloaded");
	llm_wire_errmsg("<html>bad gateway</html>", buf, sizeof(buf));
	assert_string_equal(buf, "<html>bad gateway</html>");
}

int llm_check(const json_t *agent, const char **pathp);

/* llm.memory's summary settings: checked, with the path of what is wrong */
static void test_memory_check(void **state)
{
	static const struct {
		const char *memory;
		const char *path;   /* NULL: accepted */
	} cases[] = {
		{"{\"summary\": \"model\", \"summary_model\": \"small\", "
		 "\"summary_timeout_ms\": 5000}", NULL},
		{"{\"summary\": \"extractive\"}", NULL},
		{"false", NULL},
		{"{\"summary\": \"abstractive\"}", "llm.memory.summary"},
		{"{\"summary\": true}", "llm.memory.summary"},
		{"{\"summary_timeout_ms\": 100}", "llm.memory.summary_timeout_ms"},
		{"{\"summary_model\": \"\"}", "llm.memory.summary_model"},
		{"{\"summery\": \"model\"}", "llm.memory.summery"},
	};

	(void)state;
	/* the check wants a key or an endpoint in the environment */
	setenv("OPENAI_BASE_URL", "http://127.0.0.1:9", 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char js[400];
		const char *path = NULL;
		json_t *a;
		int err;

		snprintf(js, sizeof(js), "{\"brain\": {\"provider\": "
			 "\"openai\", \"model\": \"m\"}, \"llm\": "
			 "{\"memory\": %s}}", cases[i].memory);
		a = json_loads(js, 0, NULL);
		assert_non_null(a);
		err = llm_check(a, &path);
		if (!cases[i].path) {
			assert_int_equal(err, 0);
		}
		else {
			assert_int_not_equal(err, 0);
			assert_non_null(path);
			assert_string_equal(path, cases[i].path);
		}
		json_decref(a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sse_lines),
		cmocka_unit_test(test_sse_split),
		cmocka_unit_test(test_sse_limit),
		cmocka_unit_test(test_openai_stream),
		cmocka_unit_test(test_anthropic_stream),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_errmsg),
		cmocka_unit_test(test_memory_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
