/**
 * @file tts.h  Text-to-speech providers with word timings.
 *
 * Voices are named "provider:voice", e.g. "espeak:en-us+f3", "flite:slt".
 * synth() renders one sentence; the session calls it sentence by sentence
 * so the first audio never waits for the whole reply. synth() may be called
 * from a worker thread; a provider whose library is not thread-safe
 * (espeak-ng) serialises internally by owning the library in one thread.
 */
#ifndef BANTER_TTS_H
#define BANTER_TTS_H

#include <re.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_tts_prm {
	uint32_t rate_wpm; /**< speaking rate (0 = 160) */
	uint32_t pitch;    /**< 0..100, 50 neutral (0 = 50) */
	bool probe;        /**< opened only to check that it exists (an
				agent file loading): a network voice
				connects nothing */
};
void bt_tts_prm_default(struct bt_tts_prm *prm);

struct bt_tts_word {
	char text[64];     /**< the word as written in the input text */
	uint32_t start_ms; /**< from the start of the sentence's audio */
	uint32_t end_ms;
};

/** One rendered sentence. mem_deref frees pcm and words with it. */
struct bt_tts_audio {
	int16_t *pcm;           /**< mono PCM16 at rate_hz (mem_alloc'd) */
	size_t n;
	uint32_t rate_hz;
	struct bt_tts_word *words; /**< mem_alloc'd array */
	size_t n_words;
};

struct bt_tts_st; /* instance; first member: const struct bt_tts * */

/** voice: the part after "provider:" (may be "" for the default). */
typedef int (bt_tts_alloc_h)(struct bt_tts_st **stp, const char *voice,
			     const struct bt_tts_prm *prm);
typedef int (bt_tts_synth_h)(struct bt_tts_st *st, const char *text,
			     struct bt_tts_audio **audiop);

/** One sentence being streamed by a network voice; mem_deref cancels it
 *  (no handler runs after that). */
struct bt_tts_stream;

/** What a streamed chunk carries besides its audio. */
struct bt_tts_chunk {
	const struct bt_tts_word *words; /**< words whose timing the provider
					      knows by now (ms from the
					      start of the sentence's
					      audio), or NULL */
	size_t n_words;
	bool last;       /**< the sentence is complete */
	int err;         /**< with last: it failed */
	const char *msg; /**< with err: why */
};

/**
 * A streamed sentence's audio as it arrives, on the thread that started
 * the stream (the session's): pcm at rate_hz (n may be 0), and once a
 * chunk with last set. Audio given before a failure stays valid.
 */
typedef void (bt_tts_chunk_h)(const int16_t *pcm, size_t n, uint32_t rate_hz,
			      const struct bt_tts_chunk *c, void *arg);

/**
 * Optional (network voices): stream one sentence on the calling thread's
 * event loop instead of synth() on a worker. Word timings are the
 * session's to estimate from the text when the provider gives none.
 * bt_tts_open() puts the sentence cache in front of a network voice too
 * (its streamh goes through): the session keeps the lines it renders
 * ahead there (bt_tts_cache_put).
 */
typedef int (bt_tts_stream_h)(struct bt_tts_stream **sp, struct bt_tts_st *st,
			      const char *text, bt_tts_chunk_h *h, void *arg);

struct bt_tts {
	struct le le;
	const char *name;  /**< "espeak", "flite", "openai" */
	bt_tts_alloc_h *alloch;
	bt_tts_synth_h *synthh;
	bt_tts_stream_h *streamh;  /**< may be NULL */
};

/** The provider of an instance. */
static inline const struct bt_tts *bt_tts_of(const struct bt_tts_st *st)
{
	return *(const struct bt_tts *const *)(const void *)st;
}

void bt_tts_register(struct bt_tts *tts);
void bt_tts_unregister(struct bt_tts *tts);
const struct bt_tts *bt_tts_find(const char *name);

/**
 * Make an instance for a full voice name "provider:voice". Unknown provider
 * or voice: ENOENT with a message listing what exists.
 */
int bt_tts_open(struct bt_tts_st **stp, const char *voice_full,
		const struct bt_tts_prm *prm);

/** Render one sentence with a full voice instance. */
int bt_tts_synth(struct bt_tts_st *st, const char *text,
		 struct bt_tts_audio **audiop);

/**
 * The process-wide cache of rendered sentences (on by default, 16 MiB):
 * a sentence said again by the same voice, rate and pitch is a copy of
 * its first rendering instead of a new synthesis. Instances opened while
 * the cache is off (max_bytes 0) never use it. bt_close() flushes it.
 */
struct bt_tts_cache_stats {
	uint64_t hits, misses;  /**< since the last flush */
	size_t entries, bytes;  /**< held now */
	size_t max_bytes;       /**< the budget */
};

/** Set the byte budget (0: off, and emptied); evicts down to it. */
void bt_tts_cache_set(size_t max_bytes);
/** Drop every entry and zero the counters. */
void bt_tts_cache_flush(void);
void bt_tts_cache_stats(struct bt_tts_cache_stats *st);
/**
 * Whether the cache holds text as this instance would render it (no hit
 * or miss counted): false for an instance the cache does not front (one
 * opened while the cache was off). Any thread.
 */
bool bt_tts_cache_has(struct bt_tts_st *st, const char *text);
/**
 * The cached rendering of text by this instance, a copy the caller owns
 * (a hit counted), without rendering on a miss: ENOENT. Any thread.
 */
int bt_tts_cache_get(struct bt_tts_st *st, const char *text,
		     struct bt_tts_audio **audiop);
/**
 * Keep pcm (n samples at rate_hz) and its word timings, copied, as this
 * instance's rendering of text: how a network voice's streamed sentence
 * gets into the cache, since its instance renders nothing whole itself.
 * Ignored when the cache is off, holds text already, or the sentence is
 * over a quarter of the budget. Any thread.
 */
int bt_tts_cache_put(struct bt_tts_st *st, const char *text,
		     const int16_t *pcm, size_t n, uint32_t rate_hz,
		     const struct bt_tts_word *words, size_t n_words);
/**
 * Take on rendering text into the cache for this instance's voice: true
 * if it is neither cached nor claimed by another caller (any session of
 * the process), who then leaves it alone until bt_tts_cache_release().
 * Release after the put, or after a failure. Any thread.
 */
bool bt_tts_cache_claim(struct bt_tts_st *st, const char *text);
void bt_tts_cache_release(struct bt_tts_st *st, const char *text);

int bt_tts_espeak_init(void);
void bt_tts_espeak_close(void);
int bt_tts_flite_init(void);
/** "openai:VOICE": any OpenAI-compatible /v1/audio/speech server, streamed
 *  PCM (OPENAI_SPEECH_BASE_URL or OPENAI_BASE_URL, OPENAI_API_KEY,
 *  OPENAI_TTS_MODEL). */
int bt_tts_openai_init(void);
/** "elevenlabs:VOICE_ID": ElevenLabs' multi-context WebSocket, one context
 *  per sentence, its alignment as word timings (ELEVENLABS_API_KEY,
 *  ELEVENLABS_BASE_URL, ELEVENLABS_MODEL). */
int bt_tts_elevenlabs_init(void);
/** "silent:MS" (or "silent:", paced by rate_wpm): silence as long as the
 *  sentence would take, with word timings, for tests and benchmarks;
 *  bt_init. */
int bt_tts_silent_init(void);
void bt_tts_flite_close(void);

#endif
