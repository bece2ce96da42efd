/**
 * @file llm_summary.h  Waiting for the summaries that LLM agents write at
 *                      the end of their calls (llm_summary.c).
 *
 * Private to libbanter and its programs.
 */
#ifndef BT_BRAIN_LLM_SUMMARY_H
#define BT_BRAIN_LLM_SUMMARY_H

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
