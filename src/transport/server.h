/**
 * @file server.h  `banter serve`: HTTP, the browser page and the Realtime
 *                 WebSocket endpoint over event-loop threads (private to
 *                 libbanter and its programs).
 */
#ifndef BT_TRANSPORT_SERVER_H
#define BT_TRANSPORT_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_agent;

struct bt_server_prm {
	const char *addr;          /**< listen address (0: "0.0.0.0") */
	uint16_t http_port;        /**< 0: 8080 */
	uint16_t https_port;       /**< 0: 8443; UINT16_MAX: no TLS */
	const char *cert, *key;    /**< PEM files; none: a self-signed pair
					in tls_dir, made on first start */
	const char *tls_dir;       /**< 0: "." */
	const char *web_dir;       /**< the browser page (0: "web") */
	const char *const *api_keys; /**< accepted keys; none: open */
	size_t n_keys;
	struct bt_agent *const *agents; /**< agents[0] is the default */
	const char *const *agent_ids;   /**< a short name per agent (its
					     file's name), or NULL */
	size_t n_agents;
	unsigned threads;          /**< event loops (0: one per core) */
	const char *db_path;
	uint32_t max_sessions;     /**< 0: 1000 */
	unsigned warm;             /**< recognisers made per agent and loop
					before calls come (0: none) */
	unsigned pool;             /**< idle recognisers a loop keeps for
					its next calls (0: none) */
	uint32_t goodbye_ms;       /**< shutdown deadline (0: 8000) */
	uint32_t max_send_queue_kb; /**< events a client has not read yet
					 before it is closed (0: 512) */
	uint16_t sip_port;         /**< 0: 5060; UINT16_MAX: no SIP */
	uint16_t sip_tls_port;     /**< SIP over TLS with cert/key (or the
					self-signed pair): 0: 5061;
					UINT16_MAX: none */
	bool srtp_require;         /**< phone calls must offer SRTP */
	const char *sip_allow;     /**< CIDR list of SIP sources (0: all) */
	const char *const *sip_register; /**< accounts to register at their
					      providers (sip:user@host) */
	size_t n_sip_register;
	const char *sip_auth_user; /**< their digest user (0: the URI's) */
	const char *sip_password;  /**< their password */
	uint32_t sip_ring_ms;      /**< ring at least this long (0: answer
				        when the session is ready) */
	const char *call_webhook;  /**< POST realtime.call.incoming here for
					each call (0: none) */
	/** called once listening, on the main thread (e.g. to print);
	 *  sip_port 0: no SIP; sip_tls_port 0: no SIP over TLS */
	void (*readyh)(uint16_t http_port, uint16_t https_port,
		       uint16_t sip_port, uint16_t sip_tls_port, void *arg);
	void *arg;
};

/**
 * Serve until SIGINT or SIGTERM, then stop accepting, let live calls hear
 * a goodbye within goodbye_ms and close them. Call from the main thread
 * after libre_init() and bt_init().
 */
int bt_server_run(const struct bt_server_prm *prm);

/** Write a self-signed certificate and key for localhost to path (PEM). */
int bt_tls_selfsigned(const char *path);

#endif
