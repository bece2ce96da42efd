/**
 * @file err.c  Thread-local error messages.
 */
#include <stdio.h>
#include <string.h>
#include "banter/err.h"

static __thread char errbuf[1024];

const char *bt_errmsg(void)
{
	return errbuf;
}

int bt_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);

	return err;
}

void bt_err_clear(void)
{
	errbuf[0] = '\0';
}
