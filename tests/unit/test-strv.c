/* Unit tests of common/strv: the one string vector. */
#include "strv.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_push_take_sorted)
{
	struct strv s = {0};
	char name[16], **v;

	/* past the first growth */
	for (int i = 39; i >= 0; i--) {
		snprintf(name, sizeof(name), "e%02d", i);
		ck_assert_int_eq(strv_push(&s, name), 0);
		ck_assert_ptr_null(s.v[s.n]);
	}
	ck_assert_uint_eq(s.n, 40);
	v = strv_take(&s, 1);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_null(s.v);
	ck_assert_uint_eq(s.n, 0);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "e%02d", i);
		ck_assert_str_eq(v[i], name);
	}
	ck_assert_ptr_null(v[40]);
	strv_free(v);
}
END_TEST

START_TEST(test_take_empty_unsorted)
{
	struct strv s = {0};
	char **v = strv_take(&s, 0);

	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_null(v[0]);
	strv_free(v);
	ck_assert_int_eq(strv_push(&s, "b"), 0);
	ck_assert_int_eq(strv_push(&s, "a"), 0);
	v = strv_take(&s, 0);
	ck_assert_str_eq(v[0], "b");
	ck_assert_str_eq(v[1], "a");
	ck_assert_ptr_null(v[2]);
	strv_free(v);
	strv_free(NULL);
}
END_TEST

static Suite *strv_suite(void)
{
	Suite *s = suite_create("strv");
	TCase *tc = tcase_create("strv");

	tcase_add_test(tc, test_push_take_sorted);
	tcase_add_test(tc, test_take_empty_unsorted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(strv_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
