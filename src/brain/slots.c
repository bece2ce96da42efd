/**
 * @file slots.c  Slot values from transcripts, and back to speech.
 *
 * The input is what an STT gives: lower-case words, sometimes digits. The
 * parsers are deliberately forgiving about filler words ("a table for three
 * please") but refuse answers holding two different values ("two or
 * three"), because asking again costs one turn while a wrong booking costs
 * an evening.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banter/stt.h"
#include "brain/slots.h"

static const char *const units[20] = {
	"zero", "one", "two", "three", "four", "five", "six", "seven",
	"eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
	"fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
};

static const char *const tens[10] = {
	"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
	"eighty", "ninety",
};

static const char *const day_names[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday",
};

static const char *const type_names[] = {
	[BT_SLOT_TEXT] = "text",   [BT_SLOT_NUMBER] = "number",
	[BT_SLOT_DAY] = "day",     [BT_SLOT_TIME] = "time",
	[BT_SLOT_YESNO] = "yes_no",
};

enum { CLS_NONE = 0, CLS_ALPHA, CLS_DIGIT };

static int char_class(const char *p, int prev)
{
	unsigned char c = (unsigned char)*p;
	unsigned char nx = c ? (unsigned char)p[1] : 0;

	if (isalpha(c))
		return CLS_ALPHA;
	if (isdigit(c))
		return CLS_DIGIT;
	/* an apostrophe inside a word ("that's", "o'clock") belongs to it */
	if (c == '\'' && prev == CLS_ALPHA && isalpha(nx))
		return CLS_ALPHA;
	/* "7:30" stays one token so the time parser sees hours and minutes */
	if (c == ':' && prev == CLS_DIGIT && isdigit(nx))
		return CLS_DIGIT;
	return CLS_NONE;
}

void slot_tokenize(struct slot_toks *t, const char *text)
{
	size_t len = 0;
	int prev = CLS_NONE;
	const char *p;

	if (!t)
		return;
	t->n = 0;
	if (!text)
		return;

	for (p = text;; p++) {
		int cls = *p ? char_class(p, prev) : CLS_NONE;

		/* a change of class ends a word: "7pm" -> "7" "pm" */
		if (len && cls != prev) {
			t->v[t->n][len] = '\0';
			if (++t->n == SLOT_TOK_MAX)
				return;
			len = 0;
		}
		if (!*p)
			break;
		if (cls != CLS_NONE && len < SLOT_TOK_LEN - 1)
			t->v[t->n][len++] = (char)tolower((unsigned char)*p);
		prev = cls;
	}
}

void slot_normalize(const char *text, char *buf, size_t sz)
{
	size_t len = 0;
	bool space = false;
	const char *p;

	if (!buf || !sz)
		return;
	buf[0] = '\0';
	if (!text)
		return;

	for (p = text; *p; p++) {
		unsigned char c = (unsigned char)*p;
		/* "that's" and "7:30" stay whole */
		bool inword = isalnum(c) ||
			      (c == '\'' && p > text &&
			       isalnum((unsigned char)p[-1]) &&
			       isalnum((unsigned char)p[1])) ||
			      (c == ':' && p > text &&
			       isdigit((unsigned char)p[-1]) &&
			       isdigit((unsigned char)p[1]));

		if (!inword) {
			space = len > 0;
			continue;
		}
		if (space) {
			if (len + 2 >= sz)
				break;
			buf[len++] = ' ';
			space = false;
		}
		if (len + 1 >= sz)
			break;
		buf[len++] = (char)tolower(c);
	}
	buf[len] = '\0';
}

bool slot_has_phrase(const char *text, const char *phrase)
{
	size_t n;
	const char *p;

	if (!text || !phrase || !*phrase)
		return false;
	n = strlen(phrase);
	for (p = strstr(text, phrase); p; p = strstr(p + 1, phrase)) {
		bool start = p == text || p[-1] == ' ';
		bool end = p[n] == '\0' || p[n] == ' ';

		if (start && end)
			return true;
	}
	return false;
}

static bool tok_is(const struct slot_toks *t, size_t i, const char *w)
{
	return i < t->n && !strcmp(t->v[i], w);
}

static bool tok_any(const struct slot_toks *t, const char *const *words)
{
	size_t i, k;

	for (i = 0; i < t->n; i++) {
		for (k = 0; words[k]; k++) {
			if (!strcmp(t->v[i], words[k]))
				return true;
		}
	}
	return false;
}

static int word_index(const char *w, const char *const *tab, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (tab[i][0] && !strcmp(w, tab[i]))
			return (int)i;
	}
	return -1;
}

static bool is_digits(const char *w)
{
	if (!*w)
		return false;
	for (; *w; w++) {
		if (!isdigit((unsigned char)*w))
			return false;
	}
	return true;
}

/* 0..99 in words at token i ("seven", "twenty", "twenty two"). */
static size_t below100_at(const struct slot_toks *t, size_t i, long *valp)
{
	int u, d;

	if (i >= t->n)
		return 0;
	u = word_index(t->v[i], units, 20);
	if (u >= 0) {
		*valp = u;
		return 1;
	}
	d = word_index(t->v[i], tens, 10);
	if (d < 0)
		return 0;
	*valp = d * 10;
	if (i + 1 < t->n) {
		u = word_index(t->v[i + 1], units, 10);
		if (u >= 1) {
			*valp += u;
			return 2;
		}
	}
	return 1;
}

/*
 * A whole number at token i: digits, or words up to "nine hundred and
 * ninety nine". Returns the tokens used (0: none).
 */
static size_t num_at(const struct slot_toks *t, size_t i, long *valp)
{
	size_t k, c, rc;
	long v, rest;

	if (i >= t->n)
		return 0;
	if (is_digits(t->v[i])) {
		if (strlen(t->v[i]) > 7)
			return 0;
		*valp = strtol(t->v[i], NULL, 10);
		return 1;
	}
	if (tok_is(t, i, "a") && tok_is(t, i + 1, "hundred")) {
		v = 100;
		k = i + 2;
	}
	else {
		c = below100_at(t, i, &v);
		if (!c)
			return 0;
		k = i + c;
		if (v < 1 || v > 9 || !tok_is(t, k, "hundred")) {
			*valp = v;
			return c;
		}
		v *= 100;
		k++;
	}
	c = tok_is(t, k, "and") ? 1 : 0;
	rc = below100_at(t, k + c, &rest);
	if (rc && rest > 0) {
		k += c + rc;
		v += rest;
	}
	*valp = v;
	return k - i;
}

int slot_number_parse(const char *text, int min, int max, int *valp)
{
	static const char *const me[] = {"just me", "only me", "myself",
					 "me alone", "just one", NULL};
	struct slot_toks t;
	char norm[512];
	long found = -1;
	size_t i, c, k;

	if (!valp)
		return EINVAL;

	slot_tokenize(&t, text);
	for (i = 0; i < t.n; i += c ? c : 1) {
		long v;

		c = num_at(&t, i, &v);
		if (!c)
			continue;
		if (found >= 0 && v != found)
			return EINVAL;
		found = v;
	}
	if (found < 0) {
		slot_normalize(text, norm, sizeof(norm));
		for (k = 0; me[k]; k++) {
			if (slot_has_phrase(norm, me[k]))
				found = 1;
		}
	}
	if (found < 0)
		return ENOENT;
	if (found < min || found > max)
		return ERANGE;

	*valp = (int)found;
	return 0;
}

int slot_day_parse(const char *text, int today_wday, int *wdayp)
{
	static const char *const lower[7] = {
		"sunday", "monday", "tuesday", "wednesday", "thursday",
		"friday", "saturday",
	};
	struct slot_toks t;
	int found = -1;
	size_t i;

	if (!wdayp || today_wday < 0 || today_wday > 6)
		return EINVAL;

	slot_tokenize(&t, text);
	for (i = 0; i < t.n; i++) {
		const char *w = t.v[i];
		int d = word_index(w, lower, 7);

		if (d < 0 && (!strcmp(w, "today") || !strcmp(w, "tonight")))
			d = today_wday;
		if (d < 0 && !strcmp(w, "tomorrow")) {
			bool after = i >= 2 && tok_is(&t, i - 1, "after") &&
				     tok_is(&t, i - 2, "day");

			d = (today_wday + (after ? 2 : 1)) % 7;
		}
		if (d < 0)
			continue;
		if (found >= 0 && d != found)
			return EINVAL;
		found = d;
	}
	if (found < 0)
		return ENOENT;

	*wdayp = found;
	return 0;
}

enum ampm { AP_NONE = 0, AP_AM, AP_PM };

struct tspec {
	int h, m;
	bool h24;      /* the hour is already on the 24 hour clock */
	enum ampm ap;  /* said right after the time */
};

/* "am", "a m", "pm", "p m" at token i. */
static size_t ampm_at(const struct slot_toks *t, size_t i, enum ampm *ap)
{
	if (tok_is(t, i, "am") || tok_is(t, i, "morning")) {
		*ap = AP_AM;
		return 1;
	}
	if (tok_is(t, i, "pm") || tok_is(t, i, "tonight")) {
		*ap = AP_PM;
		return 1;
	}
	if ((tok_is(t, i, "a") || tok_is(t, i, "p")) && tok_is(t, i + 1, "m")) {
		*ap = t->v[i][0] == 'a' ? AP_AM : AP_PM;
		return 2;
	}
	return 0;
}

/* Minutes said after the hour: "thirty", "forty five", "oh five". */
static size_t minutes_at(const struct slot_toks *t, size_t i, int *mp)
{
	long v;
	size_t c;

	if (tok_is(t, i, "o'clock") || tok_is(t, i, "oclock") ||
	    tok_is(t, i, "hundred")) {
		*mp = 0;
		return 1;
	}
	if (tok_is(t, i, "o") && tok_is(t, i + 1, "clock")) {
		*mp = 0;
		return 2;
	}
	if (tok_is(t, i, "and") && tok_is(t, i + 1, "a") &&
	    tok_is(t, i + 2, "half")) {
		*mp = 30;
		return 3;
	}
	if (tok_is(t, i, "oh") || tok_is(t, i, "o")) {
		int u = i + 1 < t->n ? word_index(t->v[i + 1], units, 10) : -1;

		if (u >= 1) {
			*mp = u;
			return 2;
		}
		return 0;
	}
	c = below100_at(t, i, &v);
	if (c && v >= 10 && v <= 59) {
		*mp = (int)v;
		return c;
	}
	return 0;
}

/* An hour in words or digits at token i (0..23). */
static size_t hour_at(const struct slot_toks *t, size_t i, int *hp)
{
	long v;
	size_t c = below100_at(t, i, &v);

	if (!c && i < t->n && is_digits(t->v[i]) && strlen(t->v[i]) <= 2) {
		v = strtol(t->v[i], NULL, 10);
		c = 1;
	}
	if (!c || v > 23)
		return 0;
	*hp = (int)v;
	return c;
}

/* Digits: "7", "19", "7:30", "730", "1930". */
static size_t digits_time_at(const struct slot_toks *t, size_t i,
			     struct tspec *ts)
{
	const char *w;
	const char *colon;
	long v;
	size_t len;

	if (i >= t->n)
		return 0;
	w = t->v[i];
	if (!isdigit((unsigned char)w[0]))
		return 0;
	colon = strchr(w, ':');
	if (colon) {
		if (colon - w > 2 || strlen(colon + 1) != 2)
			return 0;
		ts->h = (int)strtol(w, NULL, 10);
		ts->m = (int)strtol(colon + 1, NULL, 10);
	}
	else {
		len = strlen(w);
		if (len > 4)
			return 0;
		v = strtol(w, NULL, 10);
		if (len <= 2) {
			ts->h = (int)v;
			ts->m = 0;
		}
		else {
			ts->h = (int)(v / 100);
			ts->m = (int)(v % 100);
		}
	}
	/* a leading zero ("07:30") is the 24 hour clock */
	ts->h24 = w[0] == '0' || ts->h > 12;
	if (ts->h > 23 || ts->m > 59)
		return 0;
	return 1;
}

/* One time expression starting at token i; tokens used or 0. */
static size_t time_at(const struct slot_toks *t, size_t i, struct tspec *ts)
{
	size_t c, k;
	int h;
	long v;

	memset(ts, 0, sizeof(*ts));
	if (i >= t->n)
		return 0;

	if (tok_is(t, i, "noon") || tok_is(t, i, "midday")) {
		ts->h = 12;
		ts->h24 = true;
		return 1;
	}
	if (tok_is(t, i, "midnight")) {
		ts->h = 0;
		ts->h24 = true;
		return 1;
	}

	/* "half past seven", "quarter to eight", "ten past seven" */
	k = i;
	if (tok_is(t, k, "half") && tok_is(t, k + 1, "past")) {
		ts->m = 30;
		k += 2;
	}
	else if (tok_is(t, k, "quarter") &&
		 (tok_is(t, k + 1, "past") || tok_is(t, k + 1, "after"))) {
		ts->m = 15;
		k += 2;
	}
	else if (tok_is(t, k, "quarter") && tok_is(t, k + 1, "to")) {
		ts->m = -15;
		k += 2;
	}
	else if ((c = below100_at(t, k, &v)) != 0 && v >= 1 && v <= 30) {
		size_t j = k + c;
		bool said = tok_is(t, j, "minutes") || tok_is(t, j, "minute");

		/* "seven to eight" is a range, "ten to eight" a time */
		if (said)
			j++;
		else if (v % 5)
			j = t->n;
		if (tok_is(t, j, "past") || tok_is(t, j, "after")) {
			ts->m = (int)v;
			k = j + 1;
		}
		else if (tok_is(t, j, "to") || tok_is(t, j, "before")) {
			ts->m = -(int)v;
			k = j + 1;
		}
	}
	if (k != i) {
		c = hour_at(t, k, &h);
		if (!c || h < 1 || h > 12)
			return 0;
		if (ts->m < 0) {
			h = h == 1 ? 12 : h - 1;
			ts->m += 60;
		}
		ts->h = h;
		k += c;
	}
	else if ((c = digits_time_at(t, k, ts)) != 0) {
		k += c;
	}
	else {
		c = hour_at(t, k, &h);
		if (!c)
			return 0;
		ts->h = h;
		ts->h24 = h > 12 || h == 0;
		k += c;
		k += minutes_at(t, k, &ts->m);
	}
	if (tok_is(t, k, "o'clock") || tok_is(t, k, "oclock"))
		k++;
	k += ampm_at(t, k, &ts->ap);
	return k - i;
}

/* The time in minutes after midnight, or -1 if impossible. */
static int time_resolve(const struct tspec *ts, enum ampm global)
{
	enum ampm ap = ts->ap ? ts->ap : global;
	int h = ts->h;

	if (ts->h24) {
		/* "nineteen pm" is a contradiction; "19:30" alone is fine */
		if (ts->ap && h != 12 && (h > 12 || h == 0))
			return -1;
		return h * 60 + ts->m;
	}
	if (ap == AP_AM || ap == AP_PM) {
		if (h < 1 || h > 12)
			return -1;
		h %= 12;
		if (ap == AP_PM)
			h += 12;
		return h * 60 + ts->m;
	}
	/* a restaurant: "seven" is the evening, "eleven" the morning */
	if (h >= 1 && h <= 10)
		h += 12;
	return h * 60 + ts->m;
}

int slot_time_parse(const char *text, int *minutesp)
{
	static const char *const am_words[] = {"morning", NULL};
	static const char *const pm_words[] = {"afternoon", "evening",
					       "night", "tonight", NULL};
	struct slot_toks t;
	enum ampm global = AP_NONE;
	int found = -1;
	bool bad = false;
	size_t i, c;

	if (!minutesp)
		return EINVAL;

	slot_tokenize(&t, text);
	if (tok_any(&t, am_words))
		global = AP_AM;
	if (tok_any(&t, pm_words))
		global = global == AP_AM ? AP_NONE : AP_PM;

	for (i = 0; i < t.n; i += c ? c : 1) {
		struct tspec ts;
		int m;

		c = time_at(&t, i, &ts);
		if (!c) {
			long v;

			/* a number that is no hour ("twenty five") */
			c = num_at(&t, i, &v);
			if (c || isdigit((unsigned char)t.v[i][0]))
				bad = true;
			continue;
		}
		m = time_resolve(&ts, global);
		if (m < 0) {
			bad = true;
			continue;
		}
		if (found >= 0 && m != found)
			return EINVAL;
		found = m;
	}
	if (found < 0)
		return bad ? ERANGE : ENOENT;

	*minutesp = found;
	return 0;
}

int slot_yesno_parse(const char *text, bool *yesp)
{
	static const char *const unsure[] = {
		"not sure", "don't know", "dont know", "dunno", "maybe",
		"i guess", "no idea", NULL,
	};
	static const char *const hard_yes[] = {"yes", "yeah", "yep", "yup",
					       "yea", "ya", NULL};
	static const char *const hard_no[] = {"no", "nope", "nah", NULL};
	static const char *const neg[] = {
		"not", "isn't", "isnt", "don't", "dont", "doesn't", "wrong",
		"incorrect", "negative", "cancel", NULL,
	};
	static const char *const soft_yes[] = {
		"sure", "correct", "right", "alright", "ok", "okay",
		"absolutely", "definitely", "perfect", "great", "exactly",
		"affirmative", "fine", "good", "course", "certainly",
		"indeed", "lovely", NULL,
	};
	struct slot_toks t;
	char norm[512];
	bool hy, hn, ng, sy;
	size_t k;

	if (!yesp)
		return EINVAL;

	slot_normalize(text, norm, sizeof(norm));
	for (k = 0; unsure[k]; k++) {
		if (slot_has_phrase(norm, unsure[k]))
			return ENOENT;
	}

	slot_tokenize(&t, text);
	/* a key pressed on the phone (DTMF arrives as digits, which the
	 * recogniser never writes): "press 1 for yes, 2 for no" */
	if (t.n == 1 && (!strcmp(t.v[0], "1") || !strcmp(t.v[0], "2"))) {
		*yesp = t.v[0][0] == '1';
		return 0;
	}
	hy = tok_any(&t, hard_yes);
	hn = tok_any(&t, hard_no);
	ng = tok_any(&t, neg);
	sy = tok_any(&t, soft_yes);

	/* "yes no" or "yeah that's wrong": ask again rather than guess */
	if (hy && (hn || ng))
		return EINVAL;
	if (hn || ng) {
		*yesp = false;
		return 0;
	}
	if (hy || sy) {
		*yesp = true;
		return 0;
	}
	return ENOENT;
}

void slot_number_words(int n, char *buf, size_t sz)
{
	char hi[64] = "";
	int lo;

	if (!buf || !sz)
		return;
	if (n < 0 || n > 999999) {
		snprintf(buf, sz, "%d", n);
		return;
	}
	if (n >= 1000) {
		slot_number_words(n / 1000, hi, sizeof(hi));
		lo = n % 1000;
		if (!lo)
			snprintf(buf, sz, "%s thousand", hi);
		else {
			char rest[128];

			slot_number_words(lo, rest, sizeof(rest));
			snprintf(buf, sz, "%s thousand %s", hi, rest);
		}
		return;
	}
	if (n >= 100) {
		lo = n % 100;
		if (!lo)
			snprintf(buf, sz, "%s hundred", units[n / 100]);
		else {
			char rest[64];

			slot_number_words(lo, rest, sizeof(rest));
			snprintf(buf, sz, "%s hundred %s", units[n / 100],
				    rest);
		}
		return;
	}
	if (n < 20)
		snprintf(buf, sz, "%s", units[n]);
	else if (n % 10)
		snprintf(buf, sz, "%s-%s", tens[n / 10], units[n % 10]);
	else
		snprintf(buf, sz, "%s", tens[n / 10]);
}

const char *slot_day_name(int wday)
{
	if (wday < 0 || wday > 6)
		return "";
	return day_names[wday];
}

void slot_time_print(int minutes, char *buf, size_t sz)
{
	int h, m, h12;

	if (!buf || !sz)
		return;
	if (minutes < 0 || minutes >= 24 * 60) {
		buf[0] = '\0';
		return;
	}
	if (minutes == 12 * 60) {
		str_ncpy(buf, "noon", sz);
		return;
	}
	if (minutes == 0) {
		str_ncpy(buf, "midnight", sz);
		return;
	}
	h = minutes / 60;
	m = minutes % 60;
	h12 = h % 12 ? h % 12 : 12;
	if (m)
		snprintf(buf, sz, "%d:%02d %s", h12, m, h < 12 ? "am" : "pm");
	else
		snprintf(buf, sz, "%d %s", h12, h < 12 ? "am" : "pm");
}

int slot_type_from_name(const char *s)
{
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (type_names[i] && !strcmp(s, type_names[i]))
			return (int)i;
	}
	return -1;
}

const char *slot_type_to_name(int type)
{
	if (type < 0 ||
	    (size_t)type >= sizeof(type_names) / sizeof(type_names[0]))
		return "?";
	return type_names[type];
}
