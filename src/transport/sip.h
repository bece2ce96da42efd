/**
 * @file sip.h  `banter serve` answers the phone: SIP over UDP, TCP and TLS on
 *              the main thread's loop, each call's session and RTP on a
 *              session loop; `banter dial` places one call the same way
 *              (private to libbanter and its programs).
 */
#ifndef BT_TRANSPORT_SIP_H
#define BT_TRANSPORT_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_agent;
struct bt_sip;
struct bt_loop;
struct bt_rt;
struct sip_link;

struct bt_sip_prm {
	const char *addr;       /**< listen address (0: "0.0.0.0": loopback
				     and the default source address) */
	uint16_t port;          /**< 0: 5060 */
	uint16_t tls_port;      /**< SIP over TLS (0: 5061); UINT16_MAX or
				     no tls_pem: none */
	const char *tls_pem;    /**< PEM file with the key and certificate */
	bool srtp_require;      /**< refuse plain RTP offers (488) */
	const char *allow;      /**< "CIDR[,CIDR...]" of sources let in
				     (0: all); others get 403 */
	struct bt_agent *const *agents;  /**< agents[0] is the default */
	const char *const *agent_ids;    /**< short names, or NULL */
	size_t n_agents;
	const char *db_path;
	uint32_t max_calls;     /**< 0: 1000; more get 503 */
	uint32_t goodbye_ms;    /**< shutdown: the goodbye's deadline */
	uint32_t ring_ms;       /**< ring at least this long before the 200
				     (0: as soon as the session is ready) */
	const char *const *register_uris; /**< AORs to register at their
					       providers (sip:user@host) */
	size_t n_register;
	const char *auth_user;  /**< digest user (0: each AOR's user) */
	const char *password;   /**< digest password (required with
				     register_uris) */
	uint32_t register_s;    /**< expiry asked for (0: 3600) */
	const char *call_webhook; /**< POST realtime.call.incoming (OpenAI's
				       webhook event) here at each INVITE
				       (0: none) */
};

/** All calls ended after bt_sip_shutdown and the stack closed. Main thread. */
typedef void (bt_sip_idle_h)(void *arg);

/**
 * Listen for calls on the calling thread's libre loop (the main thread),
 * with the event loops (bt_loops_start) already running. Free with
 * mem_deref (live calls are dropped: call bt_sip_shutdown first).
 */
int bt_sip_alloc(struct bt_sip **sp, const struct bt_sip_prm *prm,
		 bt_sip_idle_h *idleh, void *arg);
/** The UDP port listened on. */
uint16_t bt_sip_port(const struct bt_sip *s);
/** The TLS port listened on; 0: none. */
uint16_t bt_sip_tls_port(const struct bt_sip *s);
/**
 * Stop taking calls (503), let live calls hear the goodbye, send BYE
 * after it, and call idleh once none is left.
 */
void bt_sip_shutdown(struct bt_sip *s);
/** Calls now (ringing or answered). Main thread. */
unsigned bt_sip_calls(const struct bt_sip *s);

/**
 * The live call (ringing or answered) whose call_id (logged at its INVITE,
 * sent in the X-Banter-Call-Id header of our replies) is id, with a reference
 * for the caller (bt_sip_call_put, any thread); NULL if none. Main thread.
 */
struct sip_link *bt_sip_call_find(struct bt_sip *s, const char *id,
				  size_t len);
void bt_sip_call_put(struct sip_link *lk);
/** The call's session loop. */
struct bt_loop *bt_sip_call_loop(const struct sip_link *lk);
/**
 * On the call's loop: attach a sideband (bt_rt_side_alloc) to the call;
 * ENOENT if the call has no session any more (it ended).
 */
int bt_sip_call_side(struct sip_link *lk, const char *model,
		     void (*sendh)(const char *json, size_t len, void *arg),
		     void (*closeh)(uint16_t code, const char *reason,
				    void *arg),
		     void *arg, struct bt_rt **rtp);

struct bt_sip_dial;

struct bt_sip_dial_prm {
	const char *uri;        /**< whom: sip:USER@HOST[:PORT][;params] */
	struct bt_agent *agent; /**< talks to the callee; outlives the call */
	const char *codecs;     /**< offered, in this order: "opus,g722,
				     pcmu,pcma" (0: all four so) */
	const char *addr;       /**< our address for SIP and RTP (0: the
				     one toward the callee) */
	const char *from;       /**< our From URI (0: sip:banter@ADDR) */
	const char *auth_user;  /**< digest user (0: the From's user) */
	const char *password;   /**< answers a 401/407 (0: it fails) */
	const char *db_path;
	uint32_t ring_s;        /**< cancel unanswered after (0: 60) */
	uint32_t max_s;         /**< hang up answered after (0: never) */
};

/**
 * The call is over and the SIP stack closed: err 0 if it was answered
 * (why says how it ended), else why it failed, as a sentence that says
 * what to do. Main thread.
 */
typedef void (bt_sip_dial_end_h)(int err, const char *why, void *arg);

/**
 * Call prm->uri on the calling thread's libre loop (the main thread), with
 * the event loops (bt_loops_start) running; the agent greets when the
 * callee answers. Free with mem_deref after endh.
 */
int bt_sip_dial_alloc(struct bt_sip_dial **dp,
		      const struct bt_sip_dial_prm *prm,
		      bt_sip_dial_end_h *endh, void *arg);
/** Cancel (ringing) or hang up (BYE); endh follows. Main thread. */
void bt_sip_dial_hangup(struct bt_sip_dial *d, const char *why);

#endif
