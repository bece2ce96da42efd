/**
 * @file ps_grammar.c  The pocketsphinx provider's grammars: the built-in
 * JSGF grammar of each slot type with an agent's extra phrases, checked
 * against the dictionary and compiled (shared between instances through
 * ps_models.c), and the overlap classifier's two small grammars. A decoder
 * made with an empty dictionary gets just its grammars' words.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sphinxbase/err.h>
#include "banter/err.h"
#include "ps_int.h"


/* ------------------------------------------------------------------ */
/* built-in grammars: JSGF rule bodies; the top rule is <answer>       */
/* ------------------------------------------------------------------ */

static const char gram_number[] =
	"<answer> = [<lead>] <count> [<after>] [<polite>]\n"
	"         | <alone> [<polite>];\n"
	"<lead> = a table for | table for | for | just | about | maybe\n"
	"       | we are | we're | there are | there will be | there'll be\n"
	"       | there are going to be | we will be | we'll be\n"
	"       | it's | it is | it will be | it'll be | make it\n"
	"       | a party of | party of | a booking for | a reservation for\n"
	"       | i'd like a table for | i would like a table for\n"
	"       | can i have a table for | can we have a table for\n"
	"       | could i get a table for | i need a table for\n"
	"       | we need a table for | book a table for;\n"
	"<count> = <unit> | <teen> | <tens> [<unit>];\n"
	"<unit> = one | two | three | four | five | six | seven | eight\n"
	"       | nine;\n"
	"<teen> = ten | eleven | twelve | thirteen | fourteen | fifteen\n"
	"       | sixteen | seventeen | eighteen | nineteen;\n"
	"<tens> = twenty | thirty | forty | fifty | sixty | seventy\n"
	"       | eighty | ninety;\n"
	"<after> = people | persons | guests | adults | of us\n"
	"        | people in total | in total;\n"
	"<alone> = just me | only me | myself | me alone | just myself\n"
	"        | just the two of us | the two of us;\n";

static const char gram_day[] =
	"<answer> = [<pre>] [<det>] <day> [<part>] [<polite>];\n"
	"<pre> = how about | what about | let's say | let's do | make it\n"
	"      | maybe | can we do | could we do | is there anything\n"
	"      | do you have anything | i'd like to come | we'd like to come\n"
	"      | i would like to come | we would like to come | we'll come\n"
	"      | i'll come | we can come | it's for | it is for;\n"
	"<det> = on | next | this | this coming | on next | on this | for\n"
	"      | for next | for this;\n"
	"<day> = monday | tuesday | wednesday | thursday | friday\n"
	"      | saturday | sunday | today | tonight | tomorrow\n"
	"      | the day after tomorrow;\n"
	"<part> = morning | afternoon | evening | night | for lunch\n"
	"       | for dinner;\n";

static const char gram_time[] =
	"<answer> = [<pre>] [<prep>] <time> [<polite>];\n"
	"<pre> = how about | what about | let's say | let's do | make it\n"
	"      | say | maybe | can we do | could we do | is there anything\n"
	"      | do you have anything | i'd like to come | we'd like to come\n"
	"      | i would like to come | we would like to come | we'll come\n"
	"      | i'll come | we can come;\n"
	"<prep> = at | around | about | at about | at around | for | by;\n"
	"<time> = <hour> [o'clock] [<ampm>] | <hour> <minutes> [<ampm>]\n"
	"       | <past> <hour> [<ampm>] | noon | midday | midnight\n"
	"       | twelve noon;\n"
	"<hour> = one | two | three | four | five | six | seven | eight\n"
	"       | nine | ten | eleven | twelve;\n"
	"<minutes> = oh five | ten | fifteen | twenty | twenty five | thirty\n"
	"          | thirty five | forty | forty five | fifty | fifty five;\n"
	"<past> = half past | quarter past | quarter after | quarter to\n"
	"       | five past | ten past | twenty past | twenty five past\n"
	"       | five to | ten to | twenty to | twenty five to;\n"
	"<ampm> = am | pm | in the morning | in the afternoon\n"
	"       | in the evening | at night | tonight;\n";

static const char gram_yesno[] =
	"<answer> = <yes> | <no> | <unsure>;\n"
	"<yes> = (<yesword> [<yesphrase>] | <yesphrase>) [<polite>];\n"
	"<yesword> = yes | yeah | yep | yup | sure | okay | correct | right\n"
	"          | absolutely | definitely | exactly | perfect | great\n"
	"          | fine | alright | certainly | uh-huh | of course;\n"
	"<yesphrase> = that's right | that's correct | that is right\n"
	"            | that is correct | that's it | that's fine\n"
	"            | that's perfect | that's great | sounds good\n"
	"            | that sounds good | that works | go ahead | please do\n"
	"            | it is | yes it is | you got it;\n"
	"<no> = (<noword> [<nophrase>] | <nophrase>) [<polite>];\n"
	"<noword> = no | nope | nah | wrong | incorrect | negative;\n"
	"<nophrase> = that's wrong | that's not right | that's not correct\n"
	"           | that is wrong | that is not right | that isn't right\n"
	"           | not really | not quite | not at all | it isn't\n"
	"           | it's not | it is not | no way | i don't think so;\n"
	"<unsure> = i'm not sure | not sure | i don't know | maybe | i guess\n"
	"         | no idea;\n";

/*
 * What a caller may say at a question that is not an answer to it: the
 * other questions' answers and the words people use when they did not
 * catch a question. A grammar forces any audio onto one of its phrases;
 * without these, "yes please" said at the day question came back as
 * "tuesday please", "tuesday" at the party size as "two", "hello" as
 * "no". With them in the grammar the recogniser has somewhere else to
 * put such words, the slot reader (src/brain/slots.c) finds no value in
 * them and the agent asks again. Measured with bench/slots.sh.
 */
#define OTHER_COMMON \
	"hello | hi | hey | sorry | what | pardon | excuse me | um | uh\n" \
	"        | oh | hang on | hold on | wait | one moment\n" \
	"        | say that again | can you repeat that | what was that\n" \
	"        | never mind | i don't understand"
#define OTHER_UNSURE \
	"i don't know | i'm not sure | not sure | no idea"
#define OTHER_YESNO \
	"yes | yes please | yeah | yep | no | no thanks | nope | sure\n" \
	"        | okay | right | that's right | correct | that's wrong\n" \
	"        | of course | absolutely"
#define OTHER_DAYS \
	"[on | next | this] (monday | tuesday | wednesday | thursday\n" \
	"        | friday | saturday | sunday) | today | tomorrow | tonight"
#define OTHER_COUNTS \
	"(one | two | three | four | five | six | seven | eight | nine\n" \
	"        | ten | eleven | twelve) [people | guests | pm | am\n" \
	"        | o'clock | thirty]"

static const char gram_other_number[] =
	"<other> = " OTHER_COMMON " | " OTHER_UNSURE "\n"
	"        | " OTHER_YESNO "\n        | " OTHER_DAYS ";\n";
static const char gram_other_day[] =
	"<other> = " OTHER_COMMON " | " OTHER_UNSURE "\n"
	"        | " OTHER_YESNO "\n        | " OTHER_COUNTS ";\n";
static const char gram_other_time[] =
	"<other> = " OTHER_COMMON " | " OTHER_UNSURE "\n"
	"        | " OTHER_YESNO "\n        | " OTHER_DAYS ";\n";
static const char gram_other_yesno[] =
	"<other> = " OTHER_COMMON "\n        | " OTHER_DAYS "\n"
	"        | " OTHER_COUNTS ";\n";

/*
 * What people say over someone who is talking: a backchannel is one to
 * three of <bcw>, a stop phrase one or two of <stopw> with a word around
 * them. One decoder per class: their scores against each other say how
 * sure the reading is (overlap_read).
 */
static const char gram_ov_bc[] =
	"#JSGF V1.0;\ngrammar overlap_bc;\n"
	"public <utt> = <bc>;\n"
	"<bc> = <bcw> [<bcw>] [<bcw>];\n"
	"<bcw> = mhm | hmm | mm | uh-huh | uh huh | yeah | yes | yep | yup\n"
	"      | right | okay | sure | i see | alright | oh | ah | cool\n"
	"      | great | exactly | wow | really | nice | good | got it\n"
	"      | of course | true | indeed;\n";

static const char gram_ov_stop[] =
	"#JSGF V1.0;\ngrammar overlap_stop;\n"
	"public <utt> = <stop>;\n"
	"<stop> = [<pre>] <stopw> [<stopw>] [<post>];\n"
	"<pre> = oh | um | uh | but | no no;\n"
	"<stopw> = wait | stop | no | hold on | hang on | sorry | actually\n"
	"        | excuse me | pardon | what | one moment\n"
	"        | one second | just a moment | just a second\n"
	"        | wait a minute | wait a second | that's wrong\n"
	"        | that's not right | not that | i meant | never mind\n"
	"        | listen | let me;\n"
	"<post> = please | a second | a moment | a minute | there\n"
	"       | for a second | that's wrong | that's not right;\n";

static const char gram_polite[] =
	"<polite> = please | thanks | thank you | please thank you;\n";

static const char *builtin(enum bt_slot_type t)
{
	switch (t) {

	case BT_SLOT_NUMBER: return gram_number;
	case BT_SLOT_DAY:    return gram_day;
	case BT_SLOT_TIME:   return gram_time;
	case BT_SLOT_YESNO:  return gram_yesno;
	default:             return NULL;
	}
}

static const char *other_of(enum bt_slot_type t)
{
	switch (t) {

	case BT_SLOT_NUMBER: return gram_other_number;
	case BT_SLOT_DAY:    return gram_other_day;
	case BT_SLOT_TIME:   return gram_other_time;
	case BT_SLOT_YESNO:  return gram_other_yesno;
	default:             return NULL;
	}
}

/* ------------------------------------------------------------------ */
/* words                                                               */
/* ------------------------------------------------------------------ */

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '\'' || c == '-' || c == '.' || c == '_';
}

static bool in_dict(ps_decoder_t *ps, const char *word)
{
	char *pron = ps_lookup_word(ps, word);

	if (!pron)
		return false;
	ckd_free(pron);
	return true;
}

/*
 * Every word of a JSGF body (rule names <...> and weights /.../ skipped)
 * must be in the dictionary: pocketsphinx would otherwise drop the
 * grammar with nothing but a log line. A body of ours failing here is a
 * bug in this file, not in the agent.
 */
/*
 * The next word of a JSGF body into w (rule names <...> and weights /.../
 * skipped); false at the end of the body.
 */
static bool body_word(const char **pp, char *w, size_t sz)
{
	const char *p = *pp;
	size_t n = 0;

	for (;;) {
		if (!*p) {
			*pp = p;
			return false;
		}
		if (*p == '<' || *p == '/') {
			const char *e = strchr(p + 1, *p == '<' ? '>' : '/');

			p = e ? e + 1 : p + strlen(p);
			continue;
		}
		if (word_char(*p))
			break;
		p++;
	}
	while (word_char(*p)) {
		if (n + 1 < sz)
			w[n++] = *p;
		p++;
	}
	w[n] = '\0';
	*pp = p;
	return true;
}

static int body_check(ps_decoder_t *ps, const char *body, const char *gname)
{
	char w[WORD_MAX];

	while (body_word(&body, w, sizeof(w))) {
		if (!in_dict(ps, w))
			return bt_err(EINVAL, "STT grammar \"%s\": built-in "
				      "word '%s' is not in the pocketsphinx "
				      "dictionary; the model files may be "
				      "damaged", gname, w);
	}
	return 0;
}

/* "STT grammar "x": " before a message about one of its phrases, or ""
 * when a phrase is checked on its own (bt_stt_pocketsphinx_phrase_check) */
static const char *gram_pre(const char *gname, char *buf, size_t sz)
{
	if (!gname)
		return "";
	snprintf(buf, sz, "STT grammar \"%s\": ", gname);
	return buf;
}

static int word_check(ps_decoder_t *ps, const char *gname, const char *w,
		      const char *phrase)
{
	char pre[96];

	if (in_dict(ps, w))
		return 0;
	return bt_err(EINVAL, "%sthe word '%s' in phrase \"%s\" is not in "
		      "the pronunciation dictionary; rephrase it with common "
		      "words (numbers as words)",
		      gram_pre(gname, pre, sizeof(pre)), w, phrase);
}

/*
 * An extra phrase into out: lower case, single spaces, every word in the
 * dictionary. Characters other than letters, digits and ' - . _ are
 * refused rather than dropped: they could change the grammar's syntax.
 */
static int phrase_norm(ps_decoder_t *ps, const char *gname,
		       const char *phrase, char *out, size_t sz)
{
	size_t len = 0, ws = 0;   /* ws: where the current word starts */
	const char *p;
	char pre[96];
	int err;

	for (p = phrase; ; p++) {
		char c = *p;
		bool sep = c == '\0' || c == ' ' || c == '\t' || c == '\n';

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!sep && !word_char(c))
			return bt_err(EINVAL, "%sphrase \"%s\" has the "
				      "character '%c'; phrases are plain "
				      "words separated by spaces",
				      gram_pre(gname, pre, sizeof(pre)),
				      phrase, c);
		if (!sep) {
			/* keeps room for a space and the terminator */
			if (len + 2 >= sz)
				return bt_err(E2BIG, "%sphrase \"%.40s...\" "
					      "is too long (at most %d "
					      "characters)",
					      gram_pre(gname, pre,
						       sizeof(pre)),
					      phrase, PHRASE_MAX - 1);
			out[len++] = c;
			continue;
		}
		if (len > ws) {
			out[len] = '\0';
			err = word_check(ps, gname, out + ws, phrase);
			if (err)
				return err;
			out[len++] = ' ';
			ws = len;
		}
		if (c == '\0')
			break;
	}
	if (len)
		len--;            /* the space after the last word */
	out[len] = '\0';
	bt_psm_keep_words(out);
	return 0;
}

/* The overlap classifier: its words from the main dictionary, then its
 * grammar. */
/*
 * Give decoder `to` (made with an empty dictionary) every word of the
 * JSGF rules `rules` from the full dictionary of `from`, alternative
 * pronunciations ("word(2)") included if alts (the overlap classifier is
 * tuned with the first pronunciation only): a decoder then holds only the
 * words its grammars use (kilobytes instead of the 28 MB dictionary).
 */
int ps_dict_take(ps_decoder_t *to, ps_decoder_t *from, const char *rules,
		 bool alts, const char *what)
{
	char w[WORD_MAX], alt[WORD_MAX + 16];  /* "word(k)" */

	while (body_word(&rules, w, sizeof(w))) {
		if (in_dict(to, w))
			continue;
		for (unsigned k = 1; k < (alts ? 10u : 2u); k++) {
			const char *name = w;
			char *pron;
			bool fail;

			if (k > 1) {
				snprintf(alt, sizeof(alt), "%s(%u)", w, k);
				name = alt;
			}
			pron = ps_lookup_word(from, name);
			if (!pron) {
				if (k > 1)
					break;
				return bt_err(EINVAL, "%s: '%s' is not in the "
					      "pocketsphinx dictionary", what,
					      w);
			}
			fail = ps_add_word(to, name, pron, FALSE) < 0;
			ckd_free(pron);
			if (fail)
				return bt_err(EIO, "%s: pocketsphinx could not "
					      "add '%s'", what, name);
		}
	}
	return 0;
}

int ps_overlap_make(struct ps_kit *kit, unsigned which)
{
	struct gram *g;
	int err;

	kit->gramv = mem_zalloc(sizeof(*kit->gramv), NULL);
	if (!kit->gramv)
		return bt_err(ENOMEM, "out of memory making STT overlap "
			      "grammars");
	kit->gramc = 1;
	g = kit->gramv;
	err = str_dup(&g->name, "STT overlap grammar");
	if (!err)
		err = str_dup(&g->jsgf, which ? gram_ov_stop : gram_ov_bc);
	if (err)
		return bt_err(ENOMEM, "out of memory making STT overlap "
			      "grammars");
	str_ncpy(g->search, which ? "bt_ov_stop" : "bt_ov_bc",
		 sizeof(g->search));
	/* the classifier is tuned with the first pronunciations only */
	kit->alts = false;
	return 0;
}

/* The JSGF source of g: its type's built-in grammar, its phrases and what
 * else a caller may say there, each word checked with lex. */
static int grammar_compile(ps_decoder_t *lex, const struct bt_stt_grammar *g,
			   struct gram *sg)
{
	const char *body = builtin(g->type);
	const char *other = other_of(g->type);
	struct mbuf *mb;
	char norm[PHRASE_MAX];
	size_t i, n_extra = 0;
	int err;

	mb = mbuf_alloc(4096);
	if (!mb)
		return bt_err(ENOMEM, "out of memory compiling grammar \"%s\"",
			      g->name);

	err = body_check(lex, body, g->name);
	if (!err)
		err = body_check(lex, gram_polite, g->name);
	if (!err && other)
		err = body_check(lex, other, g->name);
	if (err)
		goto out;

	err = mbuf_write_str(mb, "#JSGF V1.0;\ngrammar banter;\n");
	err |= mbuf_write_str(mb, "public <utt> = <answer>");
	/* JSGF splits a rule's probability evenly among its
	 * alternatives: grouped, the non-answers and the phrases share
	 * half, and many of them do not make the answer itself unlikely */
	if (other) {
		err |= mbuf_write_str(mb, " | ( <other>");
		n_extra++;
	}
	for (i = 0; i < g->n_phrases && !err && mb->end <= JSGF_MAX; i++) {
		if (!g->phrases[i]) {
			err = bt_err(EINVAL, "STT grammar \"%s\": phrase %zu "
				     "is NULL", g->name, i);
			goto out;
		}
		err = phrase_norm(lex, g->name, g->phrases[i], norm,
				  sizeof(norm));
		if (err)
			goto out;
		if (!norm[0])
			continue;
		err = mbuf_write_str(mb, n_extra ? " | " : " | ( ");
		err |= mbuf_write_str(mb, norm);
		n_extra++;
	}
	if (n_extra)
		err |= mbuf_write_str(mb, " )");
	err |= mbuf_write_str(mb, ";\n");
	err |= mbuf_write_str(mb, body);
	err |= mbuf_write_str(mb, gram_polite);
	if (other)
		err |= mbuf_write_str(mb, other);
	err |= mbuf_write_u8(mb, 0);
	if (err) {
		err = bt_err(ENOMEM, "out of memory compiling grammar \"%s\"",
			     g->name);
		goto out;
	}
	if (mb->end > JSGF_MAX) {
		err = bt_err(E2BIG, "STT grammar \"%s\" is too big (%zu bytes "
			     "of JSGF, at most %d): use fewer or shorter "
			     "phrases", g->name, mb->end, JSGF_MAX);
		goto out;
	}
	err = str_dup(&sg->jsgf, (const char *)mb->buf);
	if (err)
		err = bt_err(ENOMEM, "out of memory compiling grammar \"%s\"",
			     g->name);

 out:
	mem_deref(mb);
	return err;
}

/* What can be checked before the models load (which takes a while). */
int ps_prm_check(const struct bt_stt_prm *prm)
{
	size_t i, j;

	if (!prm || !prm->n_grammars)
		return 0;
	if (!prm->grammars)
		return bt_err(EINVAL, "STT: %zu grammars declared but the "
			      "array is NULL", prm->n_grammars);
	if (prm->n_grammars > GRAMMAR_MAX)
		return bt_err(E2BIG, "STT: %zu grammars declared, at most %d",
			      prm->n_grammars, GRAMMAR_MAX);

	for (i = 0; i < prm->n_grammars; i++) {
		const struct bt_stt_grammar *g = &prm->grammars[i];

		if (!g->name || !g->name[0])
			return bt_err(EINVAL, "STT grammar %zu has no name", i);
		for (j = 0; j < i; j++) {
			if (!strcmp(prm->grammars[j].name, g->name))
				return bt_err(EINVAL, "STT grammar \"%s\" is "
					      "declared twice", g->name);
		}
		if (g->type != BT_SLOT_TEXT && !builtin(g->type))
			return bt_err(EINVAL, "STT grammar \"%s\": unknown "
				      "slot type %d", g->name, (int)g->type);
		if (g->n_phrases && !g->phrases)
			return bt_err(EINVAL, "STT grammar \"%s\": %zu phrases "
				      "declared but the array is NULL",
				      g->name, g->n_phrases);
	}
	return 0;
}

int ps_grammars_make(struct ps_kit *kit, const struct bt_stt_prm *prm)
{
	size_t i;
	int err;

	kit->gramv = mem_zalloc(prm->n_grammars * sizeof(*kit->gramv), NULL);
	if (!kit->gramv)
		return bt_err(ENOMEM, "out of memory making STT grammars");

	for (i = 0; i < prm->n_grammars; i++) {
		const struct bt_stt_grammar *g = &prm->grammars[i];
		struct gram *sg = &kit->gramv[i];

		err = str_dup(&sg->name, g->name);
		if (err)
			return bt_err(err, "out of memory making STT grammars");
		kit->gramc = i + 1;
		sg->type = g->type;

		/* a text slot is free speech: the open language model */
		if (g->type == BT_SLOT_TEXT)
			continue;
		snprintf(sg->search, sizeof(sg->search), "bt_g%u",
			 (unsigned)i);
		err = grammar_compile(kit->lex, g, sg);
		if (err)
			return err;
	}
	return 0;
}

int bt_stt_pocketsphinx_phrase_check(const char *phrase)
{
	ps_decoder_t *lex = NULL;
	char out[PHRASE_MAX];
	int err;

	if (!phrase)
		return bt_err(EINVAL, "no phrase to check");
	err = bt_psm_prepare();
	if (err)
		return err;
	bt_psm_lock();
	err = bt_psm_lexicon(&lex);
	bt_psm_unlock();
	if (err)
		return err;
	return phrase_norm(lex, NULL, phrase, out, sizeof(out));
}
