/**
 * @file fuzz_llm_stream.c  libFuzzer harness: what an LLM server streams
 * back, through the server-sent events parser (src/net/sse.c) and the
 * OpenAI and Anthropic event readers (src/brain/llm_wire.c), and a
 * provider's error body through llm_wire_errmsg.
 *
 * The first byte picks the wire format, the second where the bytes are
 * cut (a network delivers them in any pieces). Checks what the readers
 * promise: an event is 0 or EPROTO; a tool call's index is below 64;
 * text and names are strings; the parser never holds more than its bound.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "brain/llm_int.h"
#include "net/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void f_text(const char *t, void *arg)
{
	(void)arg;
	if (!t || !t[0])
		abort();
}

static void f_tool(unsigned i, const char *id, const char *name,
		   const char *args, void *arg)
{
	(void)arg;
	if (i >= 64)
		abort();
	if (id)
		(void)strlen(id);
	if (name)
		(void)strlen(name);
	if (args)
		(void)strlen(args);
}

static void f_finish(const char *r, void *arg)
{
	(void)arg;
	if (strcmp(r, "stop") && strcmp(r, "tool_calls") &&
	    strcmp(r, "length") && !r[0])
		abort();
}

static void f_err(const char *m, void *arg)
{
	(void)arg;
	(void)strlen(m);
}

struct fz {
	enum llm_wire w;
	bool end;
};

static int on_ev(const char *event, const char *data, size_t len, void *arg)
{
	struct fz *z = arg;
	struct llm_stream_h h = {f_text, f_tool, f_finish, f_err, NULL};
	char buf[256];
	int err;

	if (strlen(data) != len)
		return 0;  /* a NUL inside the data: the reader sees less */
	err = llm_wire_event(z->w, event, data, &h, &z->end);
	if (err && err != EPROTO)
		abort();
	llm_wire_errmsg(data, buf, sizeof(buf));
	if (strlen(buf) >= sizeof(buf))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_sse *p = NULL;
	struct fz z;
	size_t cut;
	int err;

	if (size < 2)
		return 0;
	z.w = data[0] & 1 ? WIRE_ANTHROPIC : WIRE_OPENAI;
	z.end = false;
	cut = data[1];
	data += 2;
	size -= 2;
	if (bt_sse_alloc(&p, 4096, on_ev, &z))
		return 0;
	for (size_t off = 0; off < size;) {
		size_t n = cut ? cut : 1;

		if (n > size - off)
			n = size - off;
		err = bt_sse_feed(p, (const char *)data + off, n);
		if (err && err != EMSGSIZE)
			abort();
		if (err)
			break;
		if (bt_sse_pending(p) > 4096)
			abort();
		off += n;
	}
	mem_deref(p);
	return 0;
}
