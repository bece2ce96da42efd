/**
 * @file init.c  Library set-up: the built-in providers and the workers.
 */
#include <errno.h>
#include "banter/banter.h"
#include <curl/curl.h>
#include "brain/llm_summary.h"
#include "core/worker.h"
#include "net/http.h"
#include "net/ws.h"

static bool initialised;

int bt_init(void)
{
	int err;

	if (initialised)
		return 0;
	/* before any thread exists: libcurl's global set-up is not
	 * thread-safe */
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return bt_err(ENOMEM, "cannot set up libcurl");
	err = bt_worker_init(0);
	if (!err)
		err = bt_vad_energy_init();
	if (!err)
		err = bt_stt_pocketsphinx_init();
	if (!err)
		err = bt_stt_deepgram_init();
	if (!err)
		err = bt_stt_whisper_init();
	if (!err)
		err = bt_tts_espeak_init();
	if (!err)
		err = bt_tts_flite_init();
	if (!err)
		err = bt_tts_openai_init();
	if (!err)
		err = bt_tts_elevenlabs_init();
	if (!err)
		err = bt_brain_flow_init();
	if (!err)
		err = bt_brain_llm_init();
	if (!err)
		err = bt_tool_booking_init();
	if (err) {
		bt_close();
		return err;
	}
	initialised = true;
	return 0;
}

void bt_close(void)
{
	/* the summaries of calls that just ended (the simulator's) */
	bt_llm_summaries_wait();
	bt_worker_close();
	bt_tts_espeak_close();
	bt_tts_flite_close();
	bt_tts_cache_flush();
	bt_stt_pocketsphinx_close();
	bt_http_thread_close();
	bt_ws_thread_close();
	if (initialised)
		curl_global_cleanup();
	initialised = false;
}
