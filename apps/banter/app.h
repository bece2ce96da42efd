/**
 * @file app.h  The banter program's subcommands.
 */
#ifndef BANTER_APP_H
#define BANTER_APP_H

#define BT_VERSION "0.3.0"

int cmd_simulate(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_talk(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_call(int argc, char **argv);
int cmd_forget(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_dial(int argc, char **argv);

/**
 * A whole number 0..max from option `what` of `banter CMD` into *out;
 * else a message on stderr and 2 (the usage error exit status).
 */
int app_num(const char *cmd, const char *s, unsigned long max,
	    const char *what, unsigned long *out);

#endif
