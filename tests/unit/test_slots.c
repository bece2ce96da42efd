/**
 * @file test_slots.c  Slot values from transcripts, and back to speech.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "banter/stt.h"
#include "brain/slots.h"

static int num(const char *text)
{
	int v = -1;
	int err = slot_number_parse(text, 1, 20, &v);

	return err ? -err : v;
}

static void test_number(void **state)
{
	(void)state;
	assert_int_equal(num("three"), 3);
	assert_int_equal(num("a table for three please"), 3);
	assert_int_equal(num("3"), 3);
	assert_int_equal(num("for 4 people"), 4);
	assert_int_equal(num("twelve"), 12);
	assert_int_equal(num("two people"), 2);
	assert_int_equal(num("one"), 1);
	assert_int_equal(num("just me"), 1);
	assert_int_equal(num("there will be two of us two"), 2);
	assert_int_equal(num("Three."), 3);

	/* ranges: 0 and more than max are refused */
	assert_int_equal(num("zero"), -ERANGE);
	assert_int_equal(num("0"), -ERANGE);
	assert_int_equal(num("twenty two"), -ERANGE);
	assert_int_equal(num("a hundred"), -ERANGE);

	/* no number, or two different ones */
	assert_int_equal(num(""), -ENOENT);
	assert_int_equal(num("hello"), -ENOENT);
	assert_int_equal(num("what are your opening hours"), -ENOENT);
	assert_int_equal(num("someone"), -ENOENT);
	assert_int_equal(num("two or three"), -EINVAL);
	assert_int_equal(num("for 2 at 7"), -EINVAL);
	assert_int_equal(slot_number_parse(NULL, 1, 20, NULL), EINVAL);
}

static void test_number_big(void **state)
{
	int v = 0;

	(void)state;
	assert_int_equal(slot_number_parse("twenty two", 1, 999, &v), 0);
	assert_int_equal(v, 22);
	assert_int_equal(slot_number_parse("twenty-two", 1, 999, &v), 0);
	assert_int_equal(v, 22);
	assert_int_equal(slot_number_parse("ninety", 1, 999, &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(slot_number_parse("one hundred and five", 1, 999,
					   &v), 0);
	assert_int_equal(v, 105);
	assert_int_equal(slot_number_parse("a hundred", 1, 999, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(slot_number_parse("three hundred twelve", 1, 999,
					   &v), 0);
	assert_int_equal(v, 312);
	assert_int_equal(slot_number_parse("99999999", 1, 999, &v), ENOENT);
}

static int day(const char *text)
{
	int v = -1;
	/* today is a Monday */
	int err = slot_day_parse(text, 1, &v);

	return err ? -err : v;
}

static void test_day(void **state)
{
	(void)state;
	assert_int_equal(day("tuesday"), 2);
	assert_int_equal(day("on tuesday"), 2);
	assert_int_equal(day("Tuesday please"), 2);
	assert_int_equal(day("next friday"), 5);
	assert_int_equal(day("sunday"), 0);
	assert_int_equal(day("saturday night"), 6);
	assert_int_equal(day("today"), 1);
	assert_int_equal(day("tonight"), 1);
	assert_int_equal(day("tomorrow"), 2);
	assert_int_equal(day("tomorrow tuesday"), 2);
	assert_int_equal(day("the day after tomorrow"), 3);

	assert_int_equal(day(""), -ENOENT);
	assert_int_equal(day("three"), -ENOENT);
	assert_int_equal(day("someday"), -ENOENT);
	assert_int_equal(day("tuesday or wednesday"), -EINVAL);
	assert_int_equal(day("tomorrow wednesday"), -EINVAL);

	{
		int v = -1;

		/* Saturday's tomorrow wraps round to Sunday */
		assert_int_equal(slot_day_parse("tomorrow", 6, &v), 0);
		assert_int_equal(v, 0);
		assert_int_equal(slot_day_parse("today", 7, &v), EINVAL);
	}
}

static int tm(const char *text)
{
	int v = -1;
	int err = slot_time_parse(text, &v);

	return err ? -err : v;
}

#define HM(h, m) ((h) * 60 + (m))

static void test_time(void **state)
{
	(void)state;
	assert_int_equal(tm("seven pm"), HM(19, 0));
	assert_int_equal(tm("seven p m"), HM(19, 0));
	assert_int_equal(tm("7pm"), HM(19, 0));
	assert_int_equal(tm("7 p.m."), HM(19, 0));
	assert_int_equal(tm("seven"), HM(19, 0));
	assert_int_equal(tm("at seven"), HM(19, 0));
	assert_int_equal(tm("seven o'clock"), HM(19, 0));
	assert_int_equal(tm("seven oclock"), HM(19, 0));
	assert_int_equal(tm("seven thirty"), HM(19, 30));
	assert_int_equal(tm("seven thirty pm"), HM(19, 30));
	assert_int_equal(tm("half past seven"), HM(19, 30));
	assert_int_equal(tm("quarter past eight"), HM(20, 15));
	assert_int_equal(tm("a quarter to eight"), HM(19, 45));
	assert_int_equal(tm("ten to eight"), HM(19, 50));
	assert_int_equal(tm("twenty past six"), HM(18, 20));
	assert_int_equal(tm("eight forty five"), HM(20, 45));
	assert_int_equal(tm("eight oh five"), HM(20, 5));
	assert_int_equal(tm("seven and a half"), HM(19, 30));
	assert_int_equal(tm("7:30"), HM(19, 30));
	assert_int_equal(tm("19:30"), HM(19, 30));
	assert_int_equal(tm("1930"), HM(19, 30));
	assert_int_equal(tm("nineteen hundred"), HM(19, 0));
	assert_int_equal(tm("nine in the morning"), HM(9, 0));
	assert_int_equal(tm("ten am"), HM(10, 0));
	assert_int_equal(tm("ten a m"), HM(10, 0));
	assert_int_equal(tm("eleven"), HM(11, 0));
	assert_int_equal(tm("eleven at night"), HM(23, 0));
	assert_int_equal(tm("noon"), HM(12, 0));
	assert_int_equal(tm("twelve noon"), HM(12, 0));
	assert_int_equal(tm("twelve"), HM(12, 0));
	assert_int_equal(tm("twelve thirty"), HM(12, 30));
	assert_int_equal(tm("twelve am"), HM(0, 0));
	assert_int_equal(tm("midnight"), HM(0, 0));
	assert_int_equal(tm("one in the afternoon"), HM(13, 0));
	assert_int_equal(tm("at 8 tonight please"), HM(20, 0));

	assert_int_equal(tm(""), -ENOENT);
	assert_int_equal(tm("tuesday"), -ENOENT);
	assert_int_equal(tm("whenever"), -ENOENT);
	assert_int_equal(tm("twenty five"), -ERANGE);
	assert_int_equal(tm("thirteen pm"), -ERANGE);
	assert_int_equal(tm("25:00"), -ERANGE);
	assert_int_equal(tm("seven or eight"), -EINVAL);
	assert_int_equal(tm("seven to eight"), -EINVAL);
	assert_int_equal(tm("two people at seven"), -EINVAL);
}

static int yesno(const char *text)
{
	bool y = false;
	int err = slot_yesno_parse(text, &y);

	return err ? -err : y;
}

static void test_yesno(void **state)
{
	static const char *const yes[] = {
		"yes", "yeah", "yep", "sure", "correct", "that's right",
		"yes please", "Yes, that's right.", "right", "okay",
		"yes that is correct", "sounds good", "of course",
		"1" /* a key */, NULL,
	};
	static const char *const no[] = {
		"no", "nope", "that's wrong", "no thanks", "no no",
		"that's not right", "not correct", "nah", "that is incorrect",
		"no, it isn't", "2", NULL,
	};
	static const char *const neither[] = {
		"", "maybe", "i'm not sure", "hello", "three", "tuesday",
		"what are your opening hours", "12", "3", NULL,
	};
	size_t i;

	(void)state;
	for (i = 0; yes[i]; i++) {
		print_message("yes: %s\n", yes[i]);
		assert_int_equal(yesno(yes[i]), 1);
	}
	for (i = 0; no[i]; i++) {
		print_message("no: %s\n", no[i]);
		assert_int_equal(yesno(no[i]), 0);
	}
	for (i = 0; neither[i]; i++) {
		print_message("neither: %s\n", neither[i]);
		assert_int_equal(yesno(neither[i]), -ENOENT);
	}
	assert_int_equal(yesno("yes no"), -EINVAL);
	assert_int_equal(yesno("yeah that's wrong"), -EINVAL);
}

static void test_render(void **state)
{
	char buf[64];

	(void)state;
	slot_number_words(3, buf, sizeof(buf));
	assert_string_equal(buf, "three");
	slot_number_words(12, buf, sizeof(buf));
	assert_string_equal(buf, "twelve");
	slot_number_words(20, buf, sizeof(buf));
	assert_string_equal(buf, "twenty");
	slot_number_words(22, buf, sizeof(buf));
	assert_string_equal(buf, "twenty-two");
	slot_number_words(105, buf, sizeof(buf));
	assert_string_equal(buf, "one hundred five");
	slot_number_words(2000, buf, sizeof(buf));
	assert_string_equal(buf, "two thousand");
	slot_number_words(1000001, buf, sizeof(buf));
	assert_string_equal(buf, "1000001");
	slot_number_words(3, buf, 4);
	assert_string_equal(buf, "thr");

	assert_string_equal(slot_day_name(2), "Tuesday");
	assert_string_equal(slot_day_name(0), "Sunday");
	assert_string_equal(slot_day_name(7), "");

	slot_time_print(HM(19, 0), buf, sizeof(buf));
	assert_string_equal(buf, "7 pm");
	slot_time_print(HM(19, 30), buf, sizeof(buf));
	assert_string_equal(buf, "7:30 pm");
	slot_time_print(HM(9, 5), buf, sizeof(buf));
	assert_string_equal(buf, "9:05 am");
	slot_time_print(HM(12, 0), buf, sizeof(buf));
	assert_string_equal(buf, "noon");
	slot_time_print(HM(12, 30), buf, sizeof(buf));
	assert_string_equal(buf, "12:30 pm");
	slot_time_print(0, buf, sizeof(buf));
	assert_string_equal(buf, "midnight");
	slot_time_print(HM(0, 30), buf, sizeof(buf));
	assert_string_equal(buf, "12:30 am");
	slot_time_print(HM(24, 0), buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void test_words(void **state)
{
	struct slot_toks t;
	char buf[64];

	(void)state;
	slot_tokenize(&t, "Seven-thirty, 7pm; that's 19:30!");
	assert_int_equal(t.n, 6);
	assert_string_equal(t.v[0], "seven");
	assert_string_equal(t.v[1], "thirty");
	assert_string_equal(t.v[2], "7");
	assert_string_equal(t.v[3], "pm");
	assert_string_equal(t.v[4], "that's");
	assert_string_equal(t.v[5], "19:30");

	slot_normalize("  What are your OPENING hours?! ", buf, sizeof(buf));
	assert_string_equal(buf, "what are your opening hours");
	slot_normalize("What's on, 'today'?", buf, sizeof(buf));
	assert_string_equal(buf, "what's on today");
	slot_normalize("At 7:30, or 8: fine", buf, sizeof(buf));
	assert_string_equal(buf, "at 7:30 or 8 fine");
	assert_int_equal(tm(buf), -EINVAL);
	slot_normalize("at 7:30 pm", buf, sizeof(buf));
	assert_int_equal(tm(buf), HM(19, 30));
	slot_normalize("abc def ghi", buf, 6);
	assert_string_equal(buf, "abc d");

	assert_true(slot_has_phrase("so what are your hours", "your hours"));
	assert_true(slot_has_phrase("hours", "hours"));
	assert_false(slot_has_phrase("what are your hours", "our hours"));
	assert_false(slot_has_phrase("hoursday", "hours"));
	assert_false(slot_has_phrase("", "hours"));

	assert_int_equal(slot_type_from_name("number"), BT_SLOT_NUMBER);
	assert_int_equal(slot_type_from_name("yes_no"), BT_SLOT_YESNO);
	assert_int_equal(slot_type_from_name("text"), BT_SLOT_TEXT);
	assert_int_equal(slot_type_from_name("colour"), -1);
	assert_int_equal(slot_type_from_name(NULL), -1);
	assert_string_equal(slot_type_to_name(BT_SLOT_TIME), "time");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_number_big),
		cmocka_unit_test(test_day),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_yesno),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
