/**
 * @file server_prep.c  What `banter serve` makes ready before it listens:
 *                      the TLS certificate file (given, or self-signed on
 *                      first start) and the session loops' warm-up.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "banter/banter.h"
#include "net/loop.h"
#include "transport/server_int.h"

int srv_tls_file(const struct bt_server_prm *p, char *path, size_t sz,
		 const char **pathp)
{
	struct stat st;
	int err;

	if (p->cert || p->key) {
		/* libre takes one PEM file holding both */
		FILE *out, *in;
		const char *parts[2] = {p->key, p->cert};

		if (!p->cert || !p->key)
			return bt_err(EINVAL, "give both --cert and --key (PEM "
				      "files), or neither for a self-signed "
				      "pair");
		snprintf(path, sz,
			 "%s/.banter-tls-%d.pem", p->tls_dir ? p->tls_dir :
			 ".", (int)getpid());
		out = fopen(path, "w");
		if (!out)
			return bt_err(errno, "cannot write %s", path);
		for (int i = 0; i < 2; i++) {
			char buf[4096];
			size_t n;
			in = fopen(parts[i], "r");
			if (!in) {
				fclose(out);
				unlink(path);
				return bt_err(errno, "cannot read %s: %s",
					      parts[i], strerror(errno));
			}
			while ((n = fread(buf, 1, sizeof(buf), in)))
				fwrite(buf, 1, n, out);
			fclose(in);
		}
		fclose(out);
		*pathp = path;
		return 0;
	}
	snprintf(path, sz, "%s/banter-tls.pem",
		 p->tls_dir ? p->tls_dir : ".");
	if (stat(path, &st)) {
		err = bt_tls_selfsigned(path);
		if (err)
			return err;
	}
	*pathp = path;
	return 0;
}

/* The loops' warm-up, which bt_server_run waits for before it listens. */
struct warm {
	const struct bt_server_prm *prm;
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	unsigned left;          /* loops still warming */
};

/*
 * On a session loop before its first calls: make prm->warm sessions of
 * each agent and end them, which leaves their recognisers in the loop's
 * pool (bt_stt_pocketsphinx_pool), so that a call does not hold up the
 * other calls of its loop while it makes one (~0.35 s of CPU).
 */
static void warm_loop(void *arg)
{
	struct warm *w = arg;
	const struct bt_server_prm *prm = w->prm;
	struct bt_session *sv[16];
	struct bt_session_prm sp;
	unsigned n = prm->warm < 16 ? prm->warm : 16;

	bt_session_prm_default(&sp);
	sp.realtime = true;
	sp.db_path = prm->db_path ? prm->db_path : "banter.db";
	for (size_t a = 0; a < prm->n_agents; a++) {
		unsigned k = 0;

		while (k < n && !bt_session_alloc(&sv[k], prm->agents[a], &sp,
						  NULL, NULL))
			++k;
		while (k)
			mem_deref(sv[--k]);
	}
	pthread_mutex_lock(&w->mtx);
	--w->left;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mtx);
}

/*
 * Warm every loop and wait until they are done. Not listening before:
 * the warm-up takes seconds of CPU (~0.5 s a recogniser), and calls that
 * came meanwhile would wait behind it on their loop, skipping audio.
 */
void srv_warm_loops(const struct bt_server_prm *prm)
{
	struct warm w = {
		.prm = prm,
		.mtx = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};

	if (!prm->warm)
		return;
	pthread_mutex_lock(&w.mtx);
	for (unsigned i = 0; i < bt_loops_count(); i++) {
		if (!bt_loop_call(bt_loop_at(i), warm_loop, &w))
			++w.left;
	}
	while (w.left)
		pthread_cond_wait(&w.cond, &w.mtx);
	pthread_mutex_unlock(&w.mtx);
}
