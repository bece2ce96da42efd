/**
 * @file llm_summary.h  What a stopping program waits for: the tools that
 *                      outlived their calls (llm_late.c) and the
 *                      summaries that LLM agents write at the end of
 *                      their calls (llm_summary.c).
 *
 * Private to libbanter and its programs.
 */
#ifndef BT_BRAIN_LLM_SUMMARY_H
#define BT_BRAIN_LLM_SUMMARY_H

/**
 * Wait until the tools still running when their calls ended (llm_late.c)
 * have ended and their calls' records are written or, for a model's
 * summary, started: at most as long as their runs may still take (their
 * timeouts and retries), never over a minute, plus a second; past that
 * each record is written without the results that did not come. On a
 * program's main thread while loop threads run (a server stopping): call
 * it before bt_llm_summaries_wait. Not on a loop thread.
 */
void bt_llm_late_wait(void);

/**
 * Wait until every pending call summary is stored, at most the longest
 * summary timeout plus a second; past that, each falls back to its
 * extractive summary. On a thread without a running loop (the simulator)
 * it runs this thread's requests itself (bt_http_pump); on a program's
 * main thread while loop threads run (a server stopping) it waits for
 * theirs: call it before bt_loops_stop. Not on a loop thread.
 */
void bt_llm_summaries_wait(void);

#endif
