/**
 * @file mix.h  Signal pieces for the generated test corpus: a seeded
 * random generator, white and pink noise, speech-interval measurement,
 * mixing at a given SNR, echo, and float-to-PCM16 conversion.
 *
 * Signals are float arrays in PCM16 units (full scale 32768) so that
 * mixing, scaling and measuring happen before any rounding. Everything is
 * deterministic for a given seed; nothing here allocates: the caller owns
 * every buffer.
 */
#ifndef BANTER_BENCH_MIX_H
#define BANTER_BENCH_MIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** xorshift64* generator: fixed seed gives the same corpus everywhere. */
struct mix_rng {
	uint64_t s;
};

void mix_rng_seed(struct mix_rng *r, uint64_t seed);
uint32_t mix_rng_u32(struct mix_rng *r);
/** Uniform in [0,1). */
double mix_rng_uniform(struct mix_rng *r);
/** Uniform integer in [lo,hi] (inclusive). */
int mix_rng_range(struct mix_rng *r, int lo, int hi);
/** Standard normal (Box-Muller). */
double mix_rng_gauss(struct mix_rng *r);

enum mix_noise {
	MIX_NOISE_WHITE,
	MIX_NOISE_PINK,  /**< -3 dB per octave (Paul Kellet's filter) */
};

/** Fill out[n] with noise of unit RMS (over the n samples). */
void mix_noise_fill(float *out, size_t n, enum mix_noise type,
		    struct mix_rng *r);

/** A range of samples [start, end). */
struct mix_range {
	size_t start;
	size_t end;
};

/**
 * Where the sound in x[n] starts and ends, measured on 5 ms blocks: the
 * first and last block whose mean power is within rel_db of the loudest
 * block and above -80 dBFS. Returns false if no block qualifies.
 * The bounds are block edges (5 ms resolution), in samples.
 */
bool mix_find_active(const float *x, size_t n, uint32_t rate_hz,
		     double rel_db, struct mix_range *act);

/** Mean power (PCM16 units squared) of x over the ranges; 0 if empty. */
double mix_power(const float *x, size_t n, const struct mix_range *rg,
		 size_t n_rg);

/** Power ratio in dB (-120 for silence). */
double mix_db(double power);

/**
 * y[i] = s[i] + g * noise[i] with g chosen so that the power of s over the
 * ranges is snr_db above the power of g * noise over the same ranges.
 * y may be s. Returns g, or 0 if either signal is silent there.
 */
double mix_add_noise(float *y, const float *s, const float *noise, size_t n,
		     const struct mix_range *rg, size_t n_rg, double snr_db);

/** y[i] += 10^(gain_db/20) * ref[i - delay] for i >= delay (an echo path
 * of one delayed, attenuated tap). */
void mix_add_echo(float *y, const float *ref, size_t n, size_t delay,
		  double gain_db);

/** Largest |x[i]|. */
float mix_peak(const float *x, size_t n);

/**
 * out[i] = round(x[i] * scale), clipped to PCM16. Returns the number of
 * samples that clipped (0 when the caller chose scale from mix_peak).
 */
size_t mix_to_pcm16(int16_t *out, const float *x, size_t n, double scale);

#endif
