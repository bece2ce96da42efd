/**
 * @file sip_reg.c  `banter serve --sip-register`: registering at SIP
 *                  providers (a trunk, a PBX account) with digest
 *                  authentication, so that calls to the account come to
 *                  banter. libre's sipreg does the protocol: the 401/407
 *                  challenge, registering again at 90 % of the expiry the
 *                  provider gave, backing off after a failure, and the
 *                  unregistering REGISTER (expires 0) when freed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "banter/banter.h"
#include "transport/sip.h"
#include "transport/sip_int.h"

enum { EXPIRES_S = 3600 };

struct reg {
	struct le le;
	struct sipreg *sipreg;
	struct sip_cred *cred;
	char aor[256];
	unsigned n_ok;        /* 2xx so far */
};

struct sip_regs {
	struct list regs;
};

static const char *advice(uint16_t scode)
{
	switch (scode) {
	case 401:
	case 407: return "the provider refused the password: check "
		"BANTER_SIP_PASSWORD, and --sip-auth-user if the account's "
		"user name is not the URI's";
	case 403: return "the provider refuses this account: check the "
		"URI and the credentials";
	case 404: return "the provider does not know this user: check the "
		"URI";
	default:
		if (scode >= 500)
			return "the provider failed: banter tries again in a "
				"while";
		return "banter tries again in a while";
	}
}

static void resp_h(int err, const struct sip_msg *msg, void *arg)
{
	struct reg *r = arg;

	if (err) {
		re_printf("sip: registering %s failed: %m (no answer from the "
			  "provider: check its host and port, and the "
			  "network); trying again in a while\n", r->aor, err);
	}
	else if (msg && msg->scode < 300) {
		re_printf("sip: %s %s (%u %r), for %u s\n", r->n_ok++ ?
			  "registered again" : "registered", r->aor,
			  msg->scode, &msg->reason,
			  sipreg_proxy_expires(r->sipreg));
	}
	else if (msg) {
		re_printf("sip: registering %s failed: %u %r: %s\n", r->aor,
			  msg->scode, &msg->reason, advice(msg->scode));
	}
	fflush(stdout);
}

static void reg_destructor(void *arg)
{
	struct reg *r = arg;

	list_unlink(&r->le);
	if (sipreg_registered(r->sipreg))
		re_printf("sip: unregistering %s\n", r->aor);
	/* libre sends the REGISTER with expires 0 and lives until its
	 * answer; our handler is not called again */
	mem_deref(r->sipreg);
	mem_deref(r->cred);
}

static void regs_destructor(void *arg)
{
	struct sip_regs *rs = arg;

	list_flush(&rs->regs);
	fflush(stdout);
}

static int reg_add(struct sip_regs *rs, struct sip *sip, const char *uri,
		   const struct bt_sip_prm *prm)
{
	char reg_uri[300], user[128];
	struct reg *r;
	struct uri u;
	struct pl pl;
	int err;

	r = mem_zalloc(sizeof(*r), reg_destructor);
	if (!r)
		return ENOMEM;
	list_append(&rs->regs, &r->le, r);
	pl_set_str(&pl, uri);
	if (strlen(uri) >= 256 || uri_decode(&u, &pl) ||
	    pl_strcasecmp(&u.scheme, "sip") || !u.user.l || !u.host.l ||
	    u.user.l >= sizeof(user)) {
		err = bt_err(EINVAL, "--sip-register takes the account's SIP "
			     "URI, sip:USER@PROVIDER[:PORT] (got \"%s\")",
			     uri);
		goto out;
	}
	(void)pl_strcpy(&u.user, user, sizeof(user));
	/* the AOR (To, From) without URI parameters; the registrar is its
	 * host, port and parameters (;transport=tcp) */
	(void)re_snprintf(r->aor, sizeof(r->aor), u.af == AF_INET6 ?
			  "sip:%r@[%r]" : "sip:%r@%r", &u.user, &u.host);
	if (u.port) {
		size_t n = strlen(r->aor);
		(void)re_snprintf(r->aor + n, sizeof(r->aor) - n, ":%u",
				  u.port);
	}
	(void)re_snprintf(reg_uri, sizeof(reg_uri), "sip:%s%r",
			  strchr(r->aor, '@') + 1, &u.params);
	err = sip_cred_alloc(&r->cred, prm->auth_user ? prm->auth_user :
			     user, prm->password);
	if (err)
		goto out;
	/* the Contact's user is the account's: a provider that sends
	 * calls to it reaches the agent that name picks (else the first) */
	err = sipreg_register(&r->sipreg, sip, reg_uri, r->aor, NULL, r->aor,
			      prm->register_s ? prm->register_s : EXPIRES_S,
			      user, NULL, 0, 0, sip_cred_auth_h, r->cred,
			      true, resp_h, r, NULL, NULL);
	if (err)
		err = bt_err(err, "cannot register %s: %s", r->aor,
			     strerror(err));
	else
		re_printf("sip: registering %s at %s\n", r->aor, reg_uri);
 out:
	if (err)
		mem_deref(r);
	return err;
}

int sip_regs_alloc(struct sip_regs **rp, struct sip *sip,
		   const struct bt_sip_prm *prm)
{
	struct sip_regs *rs;
	int err = 0;

	if (!rp || !sip || !prm)
		return EINVAL;
	if (!prm->password)
		return bt_err(EINVAL, "--sip-register needs the account's "
			      "password in the environment: set "
			      "BANTER_SIP_PASSWORD");
	rs = mem_zalloc(sizeof(*rs), regs_destructor);
	if (!rs)
		return ENOMEM;
	list_init(&rs->regs);
	for (size_t i = 0; !err && i < prm->n_register; i++)
		err = reg_add(rs, sip, prm->register_uris[i], prm);
	fflush(stdout);
	if (err)
		mem_deref(rs);
	else
		*rp = rs;
	return err;
}
