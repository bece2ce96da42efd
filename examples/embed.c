/*
 * A complete embedding of libbanter: load an agent, run a session on a
 * WAV file as the caller's microphone, and write what the agent says.
 *   embed_example AGENT.json CALLER.wav AGENT_OUT.wav
 */
#include <stdio.h>
#include <string.h>
#include <banter/banter.h>

static void on_event(const struct bt_event *ev, void *arg)
{
	(void)arg;
	if (ev->type == BT_EV_USER)
		printf("[%6.2f s] user:  %s\n", ev->t_ms / 1000.0, ev->text);
	else if (ev->type == BT_EV_AGENT)
		printf("[%6.2f s] agent: %s\n", ev->t_ms / 1000.0, ev->text);
	else if (ev->type == BT_EV_ENDED)
		printf("[%6.2f s] ended: %s\n", ev->t_ms / 1000.0, ev->text);
}

int main(int argc, char **argv)
{
	struct bt_agent *agent = NULL;
	struct bt_session *s = NULL;
	struct bt_wav_writer *out = NULL;
	int16_t *mic = NULL, *mic16 = NULL;
	size_t n = 0, n16 = 0;
	uint32_t rate = 0;
	int err;

	if (argc != 4) {
		fprintf(stderr, "usage: %s AGENT.json CALLER.wav OUT.wav\n",
			argv[0]);
		return 2;
	}
	err = bt_init();
	if (!err)
		err = bt_agent_load(&agent, argv[1]);
	if (!err)
		err = bt_wav_read(argv[2], &mic, &n, &rate);
	if (!err)
		err = bt_resample_buf(mic, n, rate, BT_RATE_HZ, &mic16, &n16);
	if (!err)
		err = bt_wav_writer_open(&out, argv[3], BT_RATE_HZ, 1);
	if (!err)
		err = bt_session_alloc(&s, agent, NULL, on_event, NULL);
	if (err) {
		fprintf(stderr, "error: %s\n", bt_errmsg());
		goto out;
	}
	bt_session_start(s);
	/* feed the microphone, then 30 s of silence, 20 ms at a time */
	for (size_t pos = 0; pos < n16 + BT_RATE_HZ * 30 &&
	     bt_session_state(s) != BT_ST_ENDED; pos += BT_FRAME_SAMPLES) {
		int16_t in[BT_FRAME_SAMPLES] = {0}, agent_pcm[BT_FRAME_SAMPLES];
		if (pos < n16)
			memcpy(in, mic16 + pos, (n16 - pos < BT_FRAME_SAMPLES
				? n16 - pos : BT_FRAME_SAMPLES) * sizeof(int16_t));
		bt_session_push(s, in, BT_FRAME_SAMPLES);
		bt_session_pull(s, agent_pcm, BT_FRAME_SAMPLES, NULL);
		bt_wav_writer_write(out, agent_pcm, BT_FRAME_SAMPLES);
	}
 out:
	mem_deref(s);
	mem_deref(out);
	mem_deref(mic);
	mem_deref(mic16);
	mem_deref(agent);
	bt_close();
	return err ? 1 : 0;
}
