/**
 * @file fuzz_ws.c  libFuzzer harness: what a WebSocket server sends the
 * client (src/net/ws.c, ws_frame.c): the handshake's answer, a refusal's
 * body and the frames after the 101, cut into reads anywhere.
 *
 * The first byte sets the read size (1-256 bytes); the rest is what the
 * server sent. The answer's Sec-WebSocket-Accept must be the one of RFC
 * 6455's example ("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="). Checks what the client
 * promises: no message before it is open or after it is closed, none
 * over 4 MiB, the close handler at most once and with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "net/ws.h"
#include "net/ws_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	bool open, closed;
};

static void f_open(void *arg)
{
	struct fz *f = arg;

	if (f->open || f->closed)
		abort();
	f->open = true;
}

static void f_recv(bool text, const uint8_t *buf, size_t n, void *arg)
{
	struct fz *f = arg;
	(void)text;

	if (!f->open || f->closed || n > (4u << 20) || (n && !buf))
		abort();
	if (n)
		(void)buf[n - 1];
}

static void f_close(int err, uint16_t code, const char *msg, void *arg)
{
	struct fz *f = arg;
	(void)err;
	(void)code;

	if (f->closed || !msg || !msg[0])
		abort();
	(void)strlen(msg);
	f->closed = true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return libre_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_ws *ws = NULL;
	struct fz f = {false, false};
	size_t cut;

	if (size < 2)
		return 0;
	cut = (size_t)data[0] + 1;
	data++;
	size--;
	if (ws_fuzz_alloc(&ws, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", f_open, f_recv,
			  f_close, &f))
		return 0;
	while (size) {
		size_t n = size < cut ? size : cut;

		ws_fuzz_feed(ws, data, n);
		data += n;
		size -= n;
	}
	mem_deref(ws);
	return 0;
}
