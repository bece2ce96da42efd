/**
 * @file talk.c  `banter talk`: an agent on the sound card, through ALSA.
 *
 * One thread, one loop per 20 ms: read a capture frame (blocking: the card
 * keeps time), cancel the echo of the agent audio played during it, push
 * the frame into the session, pull the agent's frame and write it to the
 * card. Only the public session API is used, as an embedding program
 * would.
 *
 * Latency and echo alignment: playback starts with PREFILL_FRAMES frames
 * of silence queued, so an agent frame is heard about that long after it
 * is written (more behind a sound server), and its echo reaches the
 * microphone a little later still. The echo canceller gets each agent
 * frame one loop after it was written, delayed by the playback latency
 * measured at the start less a frame and a margin (see aec.h: the
 * reference must lead its echo); the filter tail absorbs the rest.
 *
 * ALSA's `file` and `null` plugins do not keep time (a read returns at
 * once); on them the loop is paced by the system clock so that speech
 * synthesis, which runs on a worker, keeps up as it would on a card.
 */
#include <alsa/asoundlib.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "banter/banter.h"
#include "banter/aec.h"
#include "banter/json.h"
#include "app.h"
#include "caller.h"

enum {
	FRAME = BT_FRAME_SAMPLES,         /* session frame, 16 kHz */
	MAX_DEV_FRAME = 48000 / 50 * 4,   /* 20 ms up to 192 kHz */
	MAX_CHANNELS = 8,
	PREFILL_FRAMES = 3,               /* playback queue, 20 ms frames */
	BUFFER_FRAMES = 6,                /* ALSA buffer, 20 ms frames */
	ALIGN_MARGIN_MS = 10,
	FIFO_MAX = FRAME * 8,
};

struct pcm {
	snd_pcm_t *h;
	snd_pcm_stream_t stream;
	const char *name;
	const char *what;        /* "capture" / "playback" */
	unsigned rate, channels;
	snd_pcm_uframes_t period, buffer;
	size_t frame;            /* device frames per 20 ms */
	struct bt_resampler *rs; /* to / from 16 kHz, when rate differs */
	unsigned xruns;
};

struct talk {
	FILE *trace;
	bool quiet;
	struct bt_session *sess;
	bool ended;
	char end_reason[64];
	struct pcm cap, play;
	struct bt_aec *aec;
	bool aec_reported;
	bool started;
	bool hanging_up;         /* we called bt_session_end */
	long aec_delay_ms;       /* -1: from the measured playback latency */
	int16_t fifo[FIFO_MAX];  /* captured audio at 16 kHz, mono */
	size_t fifo_n;
	unsigned user_turns, agent_lines, barge_ins;
};

static volatile sig_atomic_t stop_signal;
static char alsa_msg[512];

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* alsa-lib prints its own errors to stderr; keep the last one for ours. */
static void alsa_error(const char *file, int line, const char *func, int err,
		       const char *fmt, ...)
{
	va_list ap;

	(void)file;
	(void)line;
	(void)func;
	(void)err;
	va_start(ap, fmt);
	vsnprintf(alsa_msg, sizeof(alsa_msg), fmt, ap);
	va_end(ap);
}


static void on_event(const struct bt_event *ev, void *arg)
{
	struct talk *tk = arg;

	if (tk->trace) {
		fputs(ev->json, tk->trace);
		fputc('\n', tk->trace);
		fflush(tk->trace);
	}
	switch (ev->type) {
	case BT_EV_USER: {
		json_t *o = json_loads(ev->json, 0, NULL);

		++tk->user_turns;
		caller_print(tk->quiet, ev->t_ms, "  agent heard: \"%s\" (confidence "
			 "%.2f)", ev->text, json_real_value(json_object_get(
					o, "confidence")));
		json_decref(o);
		break;
	}
	case BT_EV_AGENT:
		++tk->agent_lines;
		caller_print(tk->quiet, ev->t_ms, "agent:  %s", ev->text);
		break;
	case BT_EV_BARGE_IN:
		/* ending the call mid-sentence cuts the reply the same way */
		if (tk->hanging_up) {
			caller_print(tk->quiet, ev->t_ms, "  -- cut off; you heard \"%s\"",
				 ev->text);
			break;
		}
		++tk->barge_ins;
		caller_print(tk->quiet, ev->t_ms, "  -- barge-in: the agent stopped; you "
			 "heard \"%s\"", ev->text);
		break;
	case BT_EV_TOOL:
		caller_print(tk->quiet, ev->t_ms, "  [tool] %s", ev->json);
		break;
	case BT_EV_TRANSFER:
		caller_print(tk->quiet, ev->t_ms, "  [transfer] %s", ev->json);
		break;
	case BT_EV_ERROR:
		caller_print(tk->quiet, ev->t_ms, "  !! %s", ev->text);
		break;
	case BT_EV_ENDED:
		tk->ended = true;
		snprintf(tk->end_reason, sizeof(tk->end_reason), "%s",
			 ev->text ? ev->text : "");
		caller_print(tk->quiet, ev->t_ms, "-- call ended (%s)", tk->end_reason);
		break;
	default:
		break;
	}
}

static int dev_err(const struct pcm *p, int err, const char *step)
{
	return bt_err(EIO, "%s device \"%s\": %s: %s%s%s; list devices "
		      "with `%s -L` and pick one with --device NAME (or "
		      "--capture NAME --playback NAME)", p->what, p->name,
		      step, snd_strerror(err), alsa_msg[0] ? " - " : "",
		      alsa_msg, p->stream == SND_PCM_STREAM_PLAYBACK
		      ? "aplay" : "arecord");
}

/* Open and configure a device: PCM16 interleaved, mono and 16 kHz if it
 * can (ALSA's plug layer converts for "default" and "plughw:"), 20 ms
 * periods. What the device insists on instead is converted here. */
static int pcm_open(struct pcm *p, snd_pcm_stream_t stream)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	unsigned rate = BT_RATE_HZ, ch = 1;
	snd_pcm_uframes_t period, buffer;
	int err, dir = 0;

	alsa_msg[0] = '\0';
	p->stream = stream;
	err = snd_pcm_open(&p->h, p->name, stream, 0);
	if (err < 0) {
		p->h = NULL;
		return bt_err(ENODEV, "cannot open the %s device \"%s\": %s%s"
			      "%s; list devices with `%s -L` and pick one "
			      "with --device NAME (or --capture NAME "
			      "--playback NAME)", p->what, p->name,
			      snd_strerror(err), alsa_msg[0] ? " - " : "",
			      alsa_msg, stream == SND_PCM_STREAM_PLAYBACK
			      ? "aplay" : "arecord");
	}

	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	if ((err = snd_pcm_hw_params_any(p->h, hw)) < 0)
		return dev_err(p, err, "no configuration");
	snd_pcm_hw_params_set_rate_resample(p->h, hw, 1);
	if ((err = snd_pcm_hw_params_set_access(
		     p->h, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0)
		return dev_err(p, err, "interleaved access not supported");
	if ((err = snd_pcm_hw_params_set_format(p->h, hw,
						 SND_PCM_FORMAT_S16)) < 0)
		return dev_err(p, err, "16-bit samples not supported (try "
			       "\"plughw:CARD\" instead of \"hw:CARD\")");
	if ((err = snd_pcm_hw_params_set_channels_near(p->h, hw, &ch)) < 0 ||
	    ch > MAX_CHANNELS)
		return dev_err(p, err < 0 ? err : -EINVAL,
			       "no usable channel count");
	if ((err = snd_pcm_hw_params_set_rate_near(p->h, hw, &rate, &dir))
	    < 0)
		return dev_err(p, err, "no usable sample rate");
	if (rate < 8000 || rate > 192000 || rate % 50)
		return dev_err(p, -EINVAL, "sample rate out of range (try "
			       "\"plughw:CARD\")");
	period = rate / 50;
	dir = 0;
	if ((err = snd_pcm_hw_params_set_period_size_near(p->h, hw, &period,
							  &dir)) < 0)
		return dev_err(p, err, "cannot set a 20 ms period");
	buffer = (snd_pcm_uframes_t)rate / 50 * BUFFER_FRAMES;
	if (buffer < period * 2)
		buffer = period * 2;
	if ((err = snd_pcm_hw_params_set_buffer_size_near(p->h, hw,
							  &buffer)) < 0)
		return dev_err(p, err, "cannot set the buffer size");
	if ((err = snd_pcm_hw_params(p->h, hw)) < 0)
		return dev_err(p, err, "cannot apply the settings");

	p->rate = rate;
	p->channels = ch;
	p->period = period;
	p->buffer = buffer;
	p->frame = rate / 50;

	if ((err = snd_pcm_sw_params_current(p->h, sw)) < 0)
		return dev_err(p, err, "cannot read the software settings");
	/* playback starts once the silence that sets its latency is in */
	if (stream == SND_PCM_STREAM_PLAYBACK)
		snd_pcm_sw_params_set_start_threshold(
			p->h, sw, p->frame * PREFILL_FRAMES);
	snd_pcm_sw_params_set_avail_min(p->h, sw, period);
	if ((err = snd_pcm_sw_params(p->h, sw)) < 0)
		return dev_err(p, err, "cannot apply the software settings");

	if (rate != BT_RATE_HZ) {
		err = stream == SND_PCM_STREAM_CAPTURE
			? bt_resampler_alloc(&p->rs, rate, BT_RATE_HZ)
			: bt_resampler_alloc(&p->rs, BT_RATE_HZ, rate);
		if (err)
			return err;
	}
	return 0;
}

static void pcm_close(struct pcm *p)
{
	if (p->h)
		snd_pcm_close(p->h);
	p->h = NULL;
	p->rs = mem_deref(p->rs);
}

/* A device that keeps no time (see the file comment). */
static bool untimed(const struct pcm *p)
{
	snd_pcm_type_t t = snd_pcm_type(p->h);

	return t == SND_PCM_TYPE_FILE || t == SND_PCM_TYPE_NULL;
}

/* Write n device frames; on an underrun recover and queue the silence
 * that gives playback its latency again. */
static int play_write(struct pcm *p, const int16_t *buf, size_t n)
{
	static const int16_t zero[MAX_DEV_FRAME * MAX_CHANNELS];

	while (n) {
		snd_pcm_sframes_t r = snd_pcm_writei(p->h, buf, n);

		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r < 0) {
			int err = snd_pcm_recover(p->h, (int)r, 1);

			if (err < 0)
				return dev_err(p, err, "write failed");
			++p->xruns;
			for (int k = 0; k < PREFILL_FRAMES; k++)
				if (snd_pcm_writei(p->h, zero, p->frame) < 0)
					break;
			continue;
		}
		buf += (size_t)r * p->channels;
		n -= (size_t)r;
	}
	return 0;
}

/* Read one 20 ms device frame; an overrun loses audio, not the call. */
static int cap_read(struct pcm *p, int16_t *buf)
{
	size_t got = 0;

	while (got < p->frame) {
		snd_pcm_sframes_t r = snd_pcm_readi(
			p->h, buf + got * p->channels, p->frame - got);

		if (r == -EINTR && stop_signal)
			return EINTR;
		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r < 0) {
			int err = snd_pcm_recover(p->h, (int)r, 1);

			if (err < 0)
				return dev_err(p, err, "read failed");
			++p->xruns;
			continue;
		}
		got += (size_t)r;
	}
	return 0;
}

/* Captured device frame -> 16 kHz mono samples appended to the fifo. */
static int cap_convert(struct talk *tk, int16_t *buf)
{
	struct pcm *p = &tk->cap;
	int16_t rs[MAX_DEV_FRAME + 64];
	size_t n = p->frame, n_out = 0;
	int err;

	if (p->channels > 1) {
		for (size_t i = 0; i < n; i++) {
			int32_t s = 0;

			for (unsigned c = 0; c < p->channels; c++)
				s += buf[i * p->channels + c];
			buf[i] = (int16_t)(s / (int32_t)p->channels);
		}
	}
	if (p->rs) {
		err = bt_resample(p->rs, buf, n, rs, sizeof(rs) / sizeof(rs[0]),
				  &n_out);
		if (err)
			return err;
		buf = rs;
		n = n_out;
	}
	if (tk->fifo_n + n > FIFO_MAX)
		return bt_err(EOVERFLOW, "capture: internal buffer full");
	memcpy(tk->fifo + tk->fifo_n, buf, n * sizeof(int16_t));
	tk->fifo_n += n;
	return 0;
}

/* A 16 kHz mono agent frame -> the device's rate and channels. */
static int play_frame(struct pcm *p, const int16_t *pcm)
{
	int16_t rs[MAX_DEV_FRAME + 64];
	int16_t out[(MAX_DEV_FRAME + 64) * MAX_CHANNELS];
	const int16_t *src = pcm;
	size_t n = FRAME;
	int err;

	if (p->rs) {
		err = bt_resample(p->rs, pcm, FRAME, rs,
				  sizeof(rs) / sizeof(rs[0]), &n);
		if (err)
			return err;
		src = rs;
	}
	if (p->channels == 1)
		return play_write(p, src, n);
	for (size_t i = 0; i < n; i++)
		for (unsigned c = 0; c < p->channels; c++)
			out[i * p->channels + c] = src[i];
	return play_write(p, out, n);
}

static void sleep_until(const struct timespec *t0, uint64_t ms)
{
	struct timespec t = *t0;

	t.tv_sec += (time_t)(ms / 1000);
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) ==
	       EINTR && !stop_signal)
		;
}

static void print_dev(const struct pcm *p)
{
	printf("  %-8s \"%s\": %u Hz, %u ch, %lu ms periods, %lu ms "
	       "buffer%s\n", p->what, p->name, p->rate, p->channels,
	       (unsigned long)(p->period * 1000 / p->rate),
	       (unsigned long)(p->buffer * 1000 / p->rate),
	       !p->rs ? "" : p->stream == SND_PCM_STREAM_CAPTURE
	       ? " (resampled to 16 kHz)" : " (resampled from 16 kHz)");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: banter talk --agent FILE [--device NAME | --capture NAME "
		"--playback NAME]\n"
		"                   [--no-aec] [--aec-delay-ms N] [--trace FILE] "
		"[--db FILE]\n"
		"                   [--max-s SECONDS] [--quiet]\n"
		"Talk to an agent through the sound card (ALSA; the device "
		"defaults to \"default\";\n"
		"`arecord -L` and `aplay -L` list the others). Ctrl-C hangs "
		"up.\n");
}

/*
 * Delay the echo reference by the playback latency, measured now that the
 * prefill is queued (a sound server adds its own), less the loop's frame
 * and a margin: the reference must still lead its echo (aec.h).
 */
static int align_aec(struct talk *tk)
{
	snd_pcm_sframes_t d = 0;
	long lat_ms, ms = tk->aec_delay_ms;

	if (snd_pcm_delay(tk->play.h, &d) < 0 || d < 0)
		d = (snd_pcm_sframes_t)(tk->play.frame * PREFILL_FRAMES);
	lat_ms = (long)d * 1000 / (long)tk->play.rate;
	if (ms < 0) {
		ms = lat_ms - BT_FRAME_MS - ALIGN_MARGIN_MS;
		ms = ms < 0 ? 0 : ms > BT_AEC_REF_DELAY_MS_MAX
			? BT_AEC_REF_DELAY_MS_MAX : ms;
	}
	if (!tk->quiet) {
		printf("  echo reference delayed %ld ms (playback latency "
		       "%ld ms%s)\n", ms, lat_ms, tk->aec_delay_ms >= 0 ?
		       "; --aec-delay-ms" : "");
		fflush(stdout);
	}
	/* what is queued for the sound card has not been heard yet */
	if (tk->sess)
		bt_session_set_playout_delay(tk->sess, (uint32_t)lat_ms);
	return bt_aec_set_ref_delay_ms(tk->aec, (uint32_t)ms);
}

/* The call itself; returns 0 or an errno (message in bt_errmsg). */
static int run(struct talk *tk, uint64_t max_ms, bool pace)
{
	static const int16_t zero[MAX_DEV_FRAME * MAX_CHANNELS];
	int16_t dev[MAX_DEV_FRAME * MAX_CHANNELS];
	int16_t ref[FRAME], clean[FRAME], agent[FRAME];
	struct timespec t0;
	uint64_t frames = 0;
	int err;

	memset(ref, 0, sizeof(ref));
	for (int k = 0; k < PREFILL_FRAMES; k++) {
		err = play_write(&tk->play, zero, tk->play.frame);
		if (err)
			return err;
	}
	if (tk->aec) {
		err = align_aec(tk);
		if (err)
			return err;
	}
	tk->started = true;
	err = bt_session_start(tk->sess);
	if (err)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	while (!tk->ended && !stop_signal && frames * BT_FRAME_MS < max_ms) {
		bool speech = false;

		if (pace)
			sleep_until(&t0, frames * BT_FRAME_MS);
		err = cap_read(&tk->cap, dev);
		if (err == EINTR)
			break;
		if (err)
			return err;
		err = cap_convert(tk, dev);
		if (err)
			return err;

		while (tk->fifo_n >= FRAME && !tk->ended) {
			const int16_t *mic = tk->fifo;

			if (tk->aec) {
				err = bt_aec_process(tk->aec, tk->fifo, ref,
						     clean, FRAME);
				if (err)
					return err;
				mic = clean;
				if (!tk->aec_reported &&
				    bt_aec_converged(tk->aec)) {
					tk->aec_reported = true;
					caller_print(tk->quiet, bt_session_now_ms(
							 tk->sess),
						 "  (echo canceller converged)");
				}
			}
			err = bt_session_push(tk->sess, mic, FRAME);
			if (!err)
				err = bt_session_pull(tk->sess, agent, FRAME,
						      &speech);
			if (err)
				return err;
			memcpy(ref, agent, sizeof(ref));
			tk->fifo_n -= FRAME;
			memmove(tk->fifo, tk->fifo + FRAME,
				tk->fifo_n * sizeof(int16_t));
			++frames;

			err = play_frame(&tk->play, agent);
			if (err)
				return err;
		}
	}
	return 0;
}

int cmd_talk(int argc, char **argv)
{
	static const struct option opts[] = {
		{"agent", required_argument, NULL, 'a'},
		{"device", required_argument, NULL, 'D'},
		{"capture", required_argument, NULL, 'C'},
		{"playback", required_argument, NULL, 'P'},
		{"no-aec", no_argument, NULL, 'n'},
		{"aec-delay-ms", required_argument, NULL, 'e'},
		{"trace", required_argument, NULL, 't'},
		{"db", required_argument, NULL, 'd'},
		{"max-s", required_argument, NULL, 'm'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *agent_path = NULL, *trace_path = NULL, *device = NULL;
	const char *cap_name = NULL, *play_name = NULL;
	struct bt_session_prm prm;
	struct bt_agent *agent = NULL;
	struct sigaction sa;
	struct talk *tk;
	uint64_t max_ms = UINT64_MAX;
	long aec_delay_ms = -1;
	bool use_aec = true, pace;
	char *end;
	int c, err, rc = 1;

	tk = calloc(1, sizeof(*tk));
	if (!tk)
		return 1;
	bt_session_prm_default(&prm);
	optind = 1;
	while ((c = getopt_long(argc, argv, "a:D:C:P:ne:t:d:m:qh", opts,
				NULL)) != -1) {
		switch (c) {
		case 'a': agent_path = optarg; break;
		case 'D': device = optarg; break;
		case 'C': cap_name = optarg; break;
		case 'P': play_name = optarg; break;
		case 'n': use_aec = false; break;
		case 'e':
			aec_delay_ms = strtol(optarg, &end, 10);
			if (*end || aec_delay_ms < 0 ||
			    aec_delay_ms > BT_AEC_REF_DELAY_MS_MAX) {
				fprintf(stderr, "banter talk: --aec-delay-ms "
					"takes 0 to %d (ms)\n",
					BT_AEC_REF_DELAY_MS_MAX);
				free(tk);
				return 2;
			}
			break;
		case 't': trace_path = optarg; break;
		case 'd': prm.db_path = optarg; break;
		case 'm': {
			unsigned long long s = strtoull(optarg, &end, 10);

			if (*end || !s || s > 86400ULL * 365) {
				fprintf(stderr, "banter talk: --max-s takes a "
					"number of seconds (1 or more)\n");
				free(tk);
				return 2;
			}
			max_ms = s * 1000;
			break;
		}
		case 'q': tk->quiet = true; break;
		case 'h': usage(); free(tk); return 0;
		default: usage(); free(tk); return 2;
		}
	}
	if (!agent_path) {
		fprintf(stderr, "banter talk: --agent is required\n");
		usage();
		free(tk);
		return 2;
	}
	if (device && (cap_name || play_name)) {
		fprintf(stderr, "banter talk: give either --device or "
			"--capture/--playback, not both\n");
		free(tk);
		return 2;
	}
	tk->cap.what = "capture";
	tk->play.what = "playback";
	tk->cap.name = cap_name ? cap_name : device ? device : "default";
	tk->play.name = play_name ? play_name : device ? device : "default";

	err = bt_init();
	if (err) {
		fprintf(stderr, "banter: cannot start: %s\n", bt_errmsg());
		free(tk);
		return 1;
	}
	snd_lib_error_set_handler(alsa_error);
	err = bt_agent_load(&agent, agent_path);
	if (err) {
		fprintf(stderr, "banter: %s\n", bt_errmsg());
		goto out;
	}
	if (trace_path) {
		tk->trace = fopen(trace_path, "w");
		if (!tk->trace) {
			fprintf(stderr, "banter: cannot write the trace %s: "
				"%s\n", trace_path, strerror(errno));
			goto out;
		}
	}

	/* the session loads its models first, so the card does not overrun
	 * while they load */
	if (use_aec) {
		tk->aec_delay_ms = aec_delay_ms;
		err = bt_aec_alloc(&tk->aec, BT_RATE_HZ, 0);
		if (err) {
			fprintf(stderr, "banter: %s\n", bt_errmsg());
			goto out;
		}
	}

	prm.rate_hz = BT_RATE_HZ;
	prm.realtime = true;
	/* the echo is cancelled here, aligned to the measured latency */
	prm.aec = false;
	err = bt_session_alloc(&tk->sess, agent, &prm, on_event, tk);
	if (err) {
		fprintf(stderr, "banter: cannot open the session: %s\n",
			bt_errmsg());
		goto out;
	}

	/* capture first: a test harness feeding both ends through pipes
	 * relies on this order */
	err = pcm_open(&tk->cap, SND_PCM_STREAM_CAPTURE);
	if (!err)
		err = pcm_open(&tk->play, SND_PCM_STREAM_PLAYBACK);
	if (err) {
		fprintf(stderr, "banter: %s\n", bt_errmsg());
		goto out;
	}
	pace = untimed(&tk->cap) || untimed(&tk->play);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (!tk->quiet) {
		printf("banter talk: agent \"%s\" (%s)\n", bt_agent_name(agent),
		       bt_agent_voice(agent));
		print_dev(&tk->cap);
		print_dev(&tk->play);
		printf("  echo canceller %s%s; Ctrl-C hangs up\n",
		       tk->aec ? "on" : "off",
		       pace ? "; the device keeps no time: paced by the "
			      "system clock" : "");
		fflush(stdout);
	}

	err = run(tk, max_ms, pace);
	if (err) {
		fprintf(stderr, "banter: %s\n", bt_errmsg());
		tk->hanging_up = true;
		if (!tk->ended)
			bt_session_end(tk->sess, "device error");
		goto out;
	}
	tk->hanging_up = true;
	if (!tk->ended)
		bt_session_end(tk->sess, stop_signal ? "hangup" : "timeout");
	snd_pcm_drain(tk->play.h);

	if (!tk->quiet)
		printf("\n%u user turns, %u agent sentences, %u barge-ins; "
		       "xruns: %u capture, %u playback\n", tk->user_turns,
		       tk->agent_lines, tk->barge_ins, tk->cap.xruns,
		       tk->play.xruns);
	rc = 0;
 out:
	/* a call that never started has no end worth printing */
	if (!tk->started)
		tk->quiet = true;
	tk->sess = mem_deref(tk->sess);
	tk->aec = mem_deref(tk->aec);
	pcm_close(&tk->cap);
	pcm_close(&tk->play);
	if (tk->trace)
		fclose(tk->trace);
	mem_deref(agent);
	snd_lib_error_set_handler(NULL);
	bt_close();
	free(tk);
	return rc;
}
