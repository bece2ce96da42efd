/**
 * @file ps_follow.c  Decoders that sit out an utterance but stay in step.
 *
 * An instance's decoders compare their scores frame for frame
 * (ps_conf.c, ps_conf_of), which holds only while their front ends
 * have heard the same audio: the noise floor of the front end (used by
 * its noise removal and its VAD, -remove_silence) and the live cepstral
 * mean (-cmn live) both carry over from one utterance to the next. A
 * decoder whose search is not needed for an utterance (the overlap
 * classifier for the caller's own turns, the grammar decoder for an
 * open-LM one) still has its front end run over the audio, which updates
 * the noise floor exactly as its own search would, for about a tenth of
 * what searching costs; at its next utterance it takes the live CMN of
 * the LM decoder, which heard everything. The two then read that
 * utterance bit for bit as if they had searched all along.
 *
 * Only for decoders an instance owns (scores not shared, or models not
 * shared): a lent one (pocketsphinx.c, lend) reads the phone loop's
 * scores and takes its CMN, and its own front end is not used.
 */
#include <string.h>
#include <sphinxbase/ckd_alloc.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/fe.h>
#include <sphinxbase/feat.h>
#include "banter/err.h"
#include "ps_int.h"


/* cepstra the front end may give back in one call: two 10 ms frames per
 * 20 ms fed, plus the speech onset's buffered lead-in (-vad_prespeech,
 * 20 frames by default); the loop in psf_feed takes the rest if more */
enum { FOLLOW_FRAMES = 64 };

int psf_alloc(struct psi *st)
{
	/* every decoder has the same front end (COMMON in ps_models.c) */
	fe_t *fe = st->phones ? ps_get_fe(st->phones) : NULL;
	int len = fe ? fe_get_output_size(fe) : 0;

	if (len <= 0)
		return bt_err(EIO, "pocketsphinx: the phone loop has no front "
			      "end (damaged model files?)");
	st->cep = (mfcc_t **)ckd_calloc_2d(FOLLOW_FRAMES, (size_t)len,
					  sizeof(mfcc_t));
	if (!st->cep)
		return bt_err(ENOMEM, "out of memory starting pocketsphinx");
	return 0;
}

void psf_free(struct psi *st)
{
	if (st->cep)
		ckd_free_2d(st->cep);
	st->cep = NULL;
}

void psf_cmn(ps_decoder_t *to, ps_decoder_t *from)
{
	feat_t *ft = ps_get_feat(to), *ff = ps_get_feat(from);
	cmn_t *ct, *cf;

	if (!ft || !ff || !ft->cmn_struct || !ff->cmn_struct)
		return;
	ct = ft->cmn_struct;
	cf = ff->cmn_struct;
	if (ct == cf || ct->veclen != cf->veclen)
		return;
	memcpy(ct->cmn_mean, cf->cmn_mean,
	       (size_t)cf->veclen * sizeof(*cf->cmn_mean));
	memcpy(ct->sum, cf->sum, (size_t)cf->veclen * sizeof(*cf->sum));
	ct->nframe = cf->nframe;
}

void psf_start(ps_decoder_t *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fe_start_utt(ps_get_fe(v[i]));
}

int psf_feed(struct psi *st, ps_decoder_t *const *v, size_t n,
	     const int16_t *pcm, size_t nsamp)
{
	for (size_t i = 0; i < n; i++) {
		fe_t *fe = ps_get_fe(v[i]);
		const int16 *p = pcm;
		size_t left = nsamp;

		while (left) {
			size_t before = left;
			int32 nfr = FOLLOW_FRAMES;

			if (fe_process_frames(fe, &p, &left, st->cep, &nfr,
					      NULL) < 0)
				return bt_err(EIO, "pocketsphinx could not "
					      "process the audio");
			if (left == before && !nfr)
				break;  /* nothing taken: kept for later */
		}
	}
	return 0;
}

void psf_end(struct psi *st, ps_decoder_t *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int32 nfr = 0;

		fe_end_utt(ps_get_fe(v[i]), st->cep[0], &nfr);
	}
}
