/**
 * @file sip_int.h  What the SIP dialog (main loop: sip.c for calls that
 *                  come in, sip_dial.c for a call banter places) and the
 *                  call's media and session (a session loop, sip_call.c)
 *                  share. Private to src/transport.
 *
 * A refcounted link joins the halves, as server.c's does for WebSocket
 * calls; each side touches only its own fields, and they talk by
 * messages: bt_loop_call to the call's loop, a libre mqueue back.
 */
#ifndef BT_TRANSPORT_SIP_INT_H
#define BT_TRANSPORT_SIP_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <re.h>
#include "audio/codec.h"
#include "net/loop.h"
#include "net/mqbox.h"
#include "transport/sdp.h"

struct bt_sip;
struct sip_call;
struct sip_refer;

#define SIP_ALLOW_HDR "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY\r\n"

/** The media as negotiated: what the call's RTP does. */
struct sip_media {
	enum bt_codec_id codec;
	int pt;                 /* its payload type (the peer's number) */
	int te_pt;              /* telephone-event, -1: none */
	uint32_t te_clock_hz;
	struct sa raddr;        /* RTP goes here until packets come in */
	bool send;              /* false: the peer holds the call */
	/* SRTP (SDES): key_len 0 is plain RTP */
	enum srtp_suite suite;
	size_t key_len;
	uint8_t tx_key[BT_SDP_KEY_MAX];  /* ours, as our SDP says */
	uint8_t rx_key[BT_SDP_KEY_MAX];  /* the peer's */
};

struct sip_link {
	atomic_int refs;
	struct bt_loop *loop;
	struct bt_mqbox *mq;    /* to the main loop (the stack's); held */
	char id[24];            /* "sip-7", for logs */
	/* set before the first message, then read-only */
	char call_id[40];       /* "rtc_<32 hex>": what a sideband names */
	struct bt_agent *agent;
	const char *db_path;
	char caller_id[128];      /* the From URI's user (a phone number) */
	struct sa rtp_laddr;    /* where the call binds RTP (port 0) */
	uint32_t goodbye_ms;
	/* main thread only */
	struct bt_sip *sip;
	struct sipsess *sess;
	struct le le;
	bool answered, gone;
	uint64_t invite_ms;     /* tmr_jiffies() at the INVITE */
	struct tmr ring;        /* --sip-ring-ms: the 200 waits for it */
	struct bt_sdp_offer offer;
	struct sa sdp_addr;     /* our RTP address as the SDP says it */
	uint32_t sdp_version;
	uint8_t srtp_key[BT_SDP_KEY_MAX];  /* our SRTP key, if SRTP */
	struct sip_refer *refer;  /* a transfer under way (sip_refer.c) */
	char local_uri[256];    /* <sip:agent@host>, as the caller called */
	char peer_host[128];    /* the From URI's host: a number's domain */
	/* session loop only */
	struct sip_call *call;
};

enum call_kind { CALL_OPEN, CALL_START, CALL_MEDIA, CALL_HANGUP,
		 CALL_SHUTDOWN, CALL_TRANSFERRED };
enum main_kind { MAIN_OPENED, MAIN_FAILED, MAIN_ENDED, MAIN_TRANSFER };

/* To the call's loop. */
struct call_msg {
	struct sip_link *lk;
	enum call_kind kind;
	struct sip_media media;  /* CALL_OPEN of an outbound call: no
				    raddr yet, the codec a guess (the first
				    offered) until CALL_MEDIA */
	int err;                /* CALL_TRANSFERRED: 0 done, else failed */
	char text[256];         /* ... and why */
};

/* To the main loop (mqueue id: enum main_kind). */
struct main_msg {
	struct sip_link *lk;
	uint16_t port;          /* MAIN_OPENED: the RTP port */
	int err;                /* MAIN_FAILED */
	char text[256];         /* MAIN_TRANSFER: the target */
};

struct sip_link *sip_link_ref(struct sip_link *lk);
void sip_link_put(struct sip_link *lk);
/** From the call's loop to the main loop. */
int sip_post_main(struct sip_link *lk, enum main_kind kind, uint16_t port,
		  int err);
/** From the main loop to the call's loop (media: CALL_OPEN, CALL_MEDIA). */
int sip_post_call(struct sip_link *lk, enum call_kind kind,
		  const struct sip_media *media);
/** Runs a call_msg on the call's loop (sip_call.c); frees it. */
void sip_call_handler(void *arg);

/**
 * Digest credentials for a provider's challenge (REGISTER, INVITE). A mem
 * object: libre's request holds it (aref) as long as it may be asked,
 * which can outlast its owner (the unregistering at shutdown, a BYE).
 */
struct sip_cred {
	char user[128];
	const char *password;   /* NULL: a challenge cannot be answered;
				   not copied (the environment's) */
	bool asked;             /* a challenge came */
	char realm[128];        /* its realm, for a log line */
};
int sip_cred_alloc(struct sip_cred **cp, const char *user,
		   const char *password);
/** libre's sip_auth_h over a struct sip_cred. */
int sip_cred_auth_h(char **user, char **pass, const char *realm, void *arg);

/* Registration at providers (sip_reg.c), main thread. */
struct sip_regs;
struct bt_sip_prm;
/**
 * Register each of prm->register_uris on stack sip, again before each
 * expires, logging every result. mem_deref unregisters (libre finishes
 * that after, holding the stack until then).
 */
int sip_regs_alloc(struct sip_regs **rp, struct sip *sip,
		   const struct bt_sip_prm *prm);

/* SDP in a dialog (sip_link.c), main thread. */
void sip_media_of(const struct sip_link *lk, const struct bt_sdp_offer *o,
		  struct sip_media *m);
/** Our answer to lk->offer, RTP at lk->sdp_addr, in a new mbuf. */
int sip_answer_mb(struct sip_link *lk, struct mbuf **mbp);
/** msg's SDP; ENODATA: no body, else as bt_sdp_offer_parse. */
int sip_body_offer(const struct sip_msg *msg, struct bt_sdp_offer *o);
/** What a bt_sdp_offer_parse error means, for a log line. */
const char *sip_sdp_errmsg(int err);
/** libre's offer handler for a re-INVITE (arg: the link). */
int sip_offer_h(struct mbuf **descp, const struct sip_msg *msg, void *arg);

/* sip_refer.c: transferring a call (REFER, RFC 3515) */
/** From the call's loop: transfer the caller to target (MAIN_TRANSFER). */
int sip_post_transfer(struct sip_link *lk, const char *target);
/** Main loop: send the REFER in lk's dialog; the outcome goes back to the
 *  call's loop as CALL_TRANSFERRED. */
void sip_refer_start(struct sip_link *lk, struct sip *sip,
		     const char *target);
/** Main loop: the outcome of a transfer to the call's loop. */
void sip_post_transfer_result(struct sip_link *lk, int err,
			      const char *why);
/** Main loop: a NOTIFY; true if it was one (answered). */
bool sip_refer_notify(struct sip *sip, const struct list *calls,
		      const struct sip_msg *msg);

#endif
