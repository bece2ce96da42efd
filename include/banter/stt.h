/**
 * @file stt.h  Streaming speech-to-text providers.
 *
 * A provider instance is made before the call (model loads happen there,
 * never on the call path) and reused for every utterance of the session.
 * All calls come from the session's thread, and an instance is made, fed
 * and freed on that one thread (pocketsphinx shares its language model
 * per thread: the model is not read-only while it scores).
 */
#ifndef BANTER_STT_H
#define BANTER_STT_H

#include <re.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "json.h"

/** Slot types a grammar can be built for. */
enum bt_slot_type {
	BT_SLOT_TEXT = 0, /**< free text: the open language model */
	BT_SLOT_NUMBER,   /**< "three", "twelve", "two people", digits */
	BT_SLOT_DAY,      /**< "tuesday", "tomorrow", "today" */
	BT_SLOT_TIME,     /**< "seven pm", "half past seven", "seven thirty" */
	BT_SLOT_YESNO,    /**< "yes", "yeah", "no", "that's right" ... */
};

/** Parse "number" / "day" / "time" / "yes_no" / "text"; -1 if unknown. */
int bt_slot_type_parse(const char *s);
const char *bt_slot_type_name(enum bt_slot_type t);

/**
 * A grammar the session may ask for: the slot type plus extra phrases
 * that must also be recognised there (the agent's global intents, e.g.
 * "what are your opening hours"). Declared at alloc so it is compiled
 * before the call.
 */
struct bt_stt_grammar {
	const char *name;          /**< unique name, e.g. the node id */
	enum bt_slot_type type;
	const char *const *phrases; /**< extra phrases, lower case */
	size_t n_phrases;
};

struct bt_transcript;

/**
 * The final transcript of an utterance, for a provider that gives it
 * later than finish() (a network recogniser): finish() returns
 * EINPROGRESS and the provider calls this once, on the session's thread.
 */
typedef void (bt_stt_final_h)(const struct bt_transcript *tr, void *arg);

/**
 * The words of the utterance so far changed (lower case, may be ""). A
 * provider calls it on the session's thread: from feed() (an embedded
 * recogniser) or when a network one's result comes in.
 */
typedef void (bt_stt_partial_h)(const char *text, void *arg);

/**
 * A network recogniser cannot go on (connect refused or timed out, the
 * socket closed, no result in time). Called once, on the session's
 * thread; after it the instance does nothing but may be freed. A
 * recogniser chain (stt/chain.c) catches it and hands the utterance to
 * the next provider; the chain then reports to the session with err 0
 * (another took over: the final will come) or err != 0 (none is left).
 */
typedef void (bt_stt_fail_h)(int err, const char *msg, void *arg);

/** What a recogniser heard about the turn itself (not words). */
enum bt_stt_turn_ev {
	BT_STT_SPEECH_STARTED = 1, /**< speech began (Deepgram SpeechStarted,
				        Flux StartOfTurn) */
	BT_STT_UTTERANCE_END,      /**< a gap after the last word (Deepgram
				        UtteranceEnd) */
	BT_STT_EAGER_END,          /**< the turn has probably ended (Flux
				        EagerEndOfTurn): start the reply,
				        it may be dropped */
	BT_STT_TURN_RESUMED,       /**< it had not (Flux TurnResumed) */
	BT_STT_END_OF_TURN,        /**< the turn has ended (Flux EndOfTurn) */
};
typedef void (bt_stt_turn_h)(enum bt_stt_turn_ev ev, const char *text,
			     void *arg);

struct bt_stt_prm {
	const struct bt_stt_grammar *grammars;
	size_t n_grammars;
	const json_t *section;      /**< the agent's "stt" object (or the
				         fallback entry), NULL: defaults */
	uint32_t call_rate_hz;      /**< the caller's audio rate before
					 resampling (8000: a phone codec) */
	bt_stt_partial_h *partialh; /**< set by the session */
	bt_stt_final_h *finalh;     /**< set by the session */
	bt_stt_fail_h *failh;       /**< set by the session (may be NULL) */
	bt_stt_turn_h *turnh;       /**< set by the session (may be NULL) */
	void *arg;
};

struct bt_transcript {
	char text[512];    /**< lower-case words, "" if nothing recognised */
	float confidence;  /**< 0..1 */
};

struct bt_stt_st; /* instance; first member: const struct bt_stt * */

typedef int (bt_stt_alloc_h)(struct bt_stt_st **stp,
			     const struct bt_stt_prm *prm);
/**
 * Begin an utterance with grammar `grammar` (NULL: open language model).
 * overlap: the session will read it as speech over the agent's voice
 * (overlaph), so a provider with an overlap classifier runs it for this
 * utterance only; one without ignores it.
 */
typedef int (bt_stt_start_h)(struct bt_stt_st *st, const char *grammar,
			     bool overlap);
/** Feed audio at BT_RATE_HZ. */
typedef int (bt_stt_feed_h)(struct bt_stt_st *st, const int16_t *pcm,
			    size_t n);
/**
 * Optional: the current partial hypothesis into buf, polled; returns true
 * if it changed. (The session takes partials as events, prm->partialh;
 * this is for tools that read a recogniser directly.)
 */
typedef bool (bt_stt_hyp_h)(struct bt_stt_st *st, char *buf, size_t sz);
/**
 * End the utterance and give the final transcript (single pass, fast), or
 * return EINPROGRESS and give it later through prm->finalh.
 */
typedef int (bt_stt_finish_h)(struct bt_stt_st *st, struct bt_transcript *tr);

/** What speech said over the agent's voice sounds most like. */
enum bt_overlap_kind {
	BT_OVERLAP_NONE = 0,    /**< no words */
	BT_OVERLAP_BACKCHANNEL, /**< "mhm", "yeah", "right", "i see" */
	BT_OVERLAP_STOP,        /**< "wait", "stop", "no", "hold on" */
};

/** The utterance read as something said over someone talking. */
struct bt_stt_overlap {
	enum bt_overlap_kind kind;
	char text[128];    /**< the phrase, lower case */
	float confidence;  /**< 0..1 that this phrase, and not other words,
				was said */
	float stop_llr;    /**< how much better a stop phrase fits than a
				backchannel, per speech frame of decoder
				score (> 0: a stop phrase; +-99 when only
				one class found words) */
};

/**
 * Optional: classify the current utterance (during it: so far; after
 * finish: the whole of it, until the next start) against a small grammar
 * of backchannels and stop phrases, independent of the utterance's own
 * grammar. The session calls it for speech over the agent's voice, in an
 * utterance started with overlap; for one started without, an error.
 */
typedef int (bt_stt_overlap_h)(struct bt_stt_st *st,
			       struct bt_stt_overlap *ov);

/**
 * Optional: every frame of the call, in or out of an utterance (a
 * streaming network recogniser keeps its own timeline of the call);
 * feedh still gets the utterance's audio.
 */
typedef void (bt_stt_listen_h)(struct bt_stt_st *st, const int16_t *pcm,
			       size_t n);

/**
 * Optional: check the provider's section of an agent file when it loads
 * (keys, keys in the environment). On error a message (bt_err) and
 * *pathp the dotted path of the field at fault (a static or json-owned
 * string).
 */
typedef int (bt_stt_check_h)(const json_t *section, const char *path,
			     const char **pathp);

struct bt_stt {
	struct le le;
	const char *name;
	bt_stt_alloc_h *alloch;
	bt_stt_start_h *starth;
	bt_stt_feed_h *feedh;
	bt_stt_hyp_h *hyph;              /**< may be NULL */
	bt_stt_finish_h *finishh;
	bt_stt_overlap_h *overlaph;  /**< may be NULL */
	bt_stt_listen_h *listenh;    /**< may be NULL */
	bt_stt_check_h *checkh;      /**< may be NULL */
	const char *const *keys;     /**< section keys it reads besides
					  "provider" (NULL-ended), or NULL */
	bool network;                /**< needs a network; the session
					  can fall back from it */
};

void bt_stt_register(struct bt_stt *stt);
void bt_stt_unregister(struct bt_stt *stt);
const struct bt_stt *bt_stt_find(const char *name);

/** The pocketsphinx provider ("pocketsphinx"); registered by bt_init. */
int bt_stt_pocketsphinx_init(void);
void bt_stt_pocketsphinx_close(void);

/**
 * Keep up to per_thread idle pocketsphinx instances on each thread when
 * their sessions end (0, the default: free them), so that the next call
 * on that thread with the same grammars starts without making one
 * (~20 ms of CPU, ~5 MB each with shared scores; ~0.35 s, ~50 MB
 * without), held while idle. Any thread.
 */
void bt_stt_pocketsphinx_pool(unsigned per_thread);

/**
 * A recogniser's open-language-model, grammar and overlap-class decoders
 * (most of its set-up: ~0.18 s of CPU and ~23 MB for the first, ~20 ms
 * and a few MB for each of the others) are lent to it for each utterance
 * by its thread, which keeps as many as its callers use at once, idle
 * between utterances (up to the pool's per_thread above, at least the
 * count below). Making a recogniser makes ready, if fewer wait,
 * per_agent grammar decoders of its agent's grammars and per_agent x
 * agents open-LM and overlap decoders, which all agents share (0: 1
 * each), so that as many callers of a thread can start speaking at once
 * without the thread making one then. Any thread.
 */
void bt_stt_pocketsphinx_spare(unsigned per_agent, unsigned agents);

/** Free the calling thread's idle instances (before the thread exits). */
void bt_stt_pocketsphinx_drain(void);

/** Instances made and reused since start, and idle now (any may be NULL). */
void bt_stt_pocketsphinx_stats(unsigned *made, unsigned *reused,
			       unsigned *idle_now);

/**
 * Whether the embedded recogniser can hear `phrase` (a grammar's extra
 * phrase, e.g. an intent's): 0, or EINVAL with a message naming the word
 * its pronunciation dictionary lacks or the character a phrase cannot
 * hold, or E2BIG. Loads the dictionary on first use (once per process,
 * shared with the recognisers). Any thread.
 */
int bt_stt_pocketsphinx_phrase_check(const char *phrase);

/** The Deepgram provider ("deepgram"); registered by bt_init. */
int bt_stt_deepgram_init(void);
/** OpenAI-compatible /v1/audio/transcriptions ("whisper"); bt_init. */
int bt_stt_whisper_init(void);
/** The scripted recogniser ("script", for tests and benchmarks): hears
 *  the agent file's stt.words, one entry per utterance; bt_init. */
int bt_stt_script_init(void);

/**
 * A recogniser with fallbacks: the providers named by the agent's stt
 * section ("provider", then each of "fallback"), the first one live.
 * When it fails (prm->failh of the inner one), the next is made and gets
 * the utterance's audio so far, so no words are lost; prm->failh hears
 * of each switch (msg says what failed and who took over). A section
 * naming one provider and no fallback gives that provider directly.
 */
int bt_stt_open(struct bt_stt_st **stp, const struct bt_stt_prm *prm);

/** The provider of an instance. */
static inline const struct bt_stt *bt_stt_of(const struct bt_stt_st *st)
{
	return *(const struct bt_stt *const *)(const void *)st;
}

#endif
