/**
 * @file err.h  Errors: errno-style int return codes plus a message for the user.
 *
 * Every function of libbanter that can fail returns 0 on success or an errno
 * value, and sets a thread-local message saying what is wrong and what to do.
 */
#ifndef BANTER_ERR_H
#define BANTER_ERR_H

#include <stdarg.h>

/** The last error message set on the calling thread ("" if none). */
const char *bt_errmsg(void);

/** Set the calling thread's error message (printf format); returns err. */
int bt_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Clear the calling thread's error message. */
void bt_err_clear(void);

#endif
