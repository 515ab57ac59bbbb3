/* common/parse: the strict parsers of numbers, durations and DNS names. */
#include "parse.h"

#include "settings.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>

static const struct {
	const char *s;
	uint64_t max;
	int r;
	uint64_t v;
} uints[] = {
        {"0", 10, 0, 0},
        {"10", 10, 0, 10},
        {"11", 10, -ERANGE, 0},
        {"007", 10, 0, 7},
        {"", 10, -EINVAL, 0},
        {"-1", 10, -EINVAL, 0},
        {"+1", 10, -EINVAL, 0},
        {" 1", 10, -EINVAL, 0},
        {"1 ", 10, -EINVAL, 0},
        {"0x10", UINT64_MAX, -EINVAL, 0},
        {"1e3", UINT64_MAX, -EINVAL, 0},
        {"1.0", UINT64_MAX, -EINVAL, 0},
        {"18446744073709551615", UINT64_MAX, 0, UINT64_MAX},
        {"18446744073709551616", UINT64_MAX, -ERANGE, 0},
        {"99999999999999999999999", UINT64_MAX, -ERANGE, 0},
        {"65535", 65535, 0, 65535},
        {"65536", 65535, -ERANGE, 0},
};

START_TEST(test_parse_uint)
{
	uint64_t v = 4242;

	ck_assert_msg(parse_uint(uints[_i].s, uints[_i].max, &v) == uints[_i].r,
	              "parse_uint('%s') did not return %d", uints[_i].s, uints[_i].r);
	ck_assert_uint_eq(v, uints[_i].r == 0 ? uints[_i].v : 4242);
}
END_TEST

START_TEST(test_parse_uint_null)
{
	uint64_t v;

	ck_assert_int_eq(parse_uint(NULL, 10, &v), -EINVAL);
}
END_TEST

static const struct {
	const char *s;
	int r;
	uint64_t ms;
} durations[] = {
        {"20", 0, 20000},
        {"20s", 0, 20000},
        {"1500ms", 0, 1500},
        {"0", 0, 0},
        {"0ms", 0, 0},
        {"86400", 0, 86400000},
        {"86400s", 0, 86400000},
        {"86400000ms", 0, 86400000},
        {"86401", -ERANGE, 0},
        {"86400001ms", -ERANGE, 0},
        {"99999999999999999999999999999999999", -ERANGE, 0},
        {"-1", -EINVAL, 0},
        {"1.5", -EINVAL, 0},
        {"1.5s", -EINVAL, 0},
        {"s", -EINVAL, 0},
        {"ms", -EINVAL, 0},
        {"", -EINVAL, 0},
        {"20m", -EINVAL, 0},
        {"20S", -EINVAL, 0},
        {"20 s", -EINVAL, 0},
        {"1h", -EINVAL, 0},
        {"20ss", -EINVAL, 0},
        {"20msms", -EINVAL, 0},
};

START_TEST(test_parse_duration)
{
	uint64_t ms = 4242;
	int r = parse_duration_ms(durations[_i].s, SETTINGS_MAX_TIMEOUT_MS, &ms);

	ck_assert_msg(r == durations[_i].r, "parse_duration_ms('%s') returned %d, not %d",
	              durations[_i].s, r, durations[_i].r);
	ck_assert_uint_eq(ms, r == 0 ? durations[_i].ms : 4242);
}
END_TEST

static const struct {
	const char *s;
	bool label, subdomain;
} names[] = {
        {"etcd", true, true},
        {"a", true, true},
        {"0", true, true},
        {"etcd-0", true, true},
        {"a--b", true, true},
        {"-a", false, false},
        {"a-", false, false},
        {"A", false, false},
        {"a_b", false, false},
        {"", false, false},
        {"cluster.local", false, true},
        {"a.b.c", false, true},
        {".a", false, false},
        {"a.", false, false},
        {"a..b", false, false},
        {"a.-b", false, false},
        {"a.B", false, false},
        /* 63 characters */
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true, true},
        /* 64 characters */
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
};

START_TEST(test_dns_names)
{
	ck_assert_msg(dns_label_valid(names[_i].s) == names[_i].label, "label '%s'", names[_i].s);
	ck_assert_msg(dns_subdomain_valid(names[_i].s) == names[_i].subdomain, "subdomain '%s'",
	              names[_i].s);
}
END_TEST

/* n labels of 63 characters joined by dots, cut to len characters */
static void long_domain(char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = i % 64 == 63 ? '.' : 'a';
	buf[len] = '\0';
}

START_TEST(test_dns_subdomain_length)
{
	char buf[300];

	long_domain(buf, 253);
	ck_assert(dns_subdomain_valid(buf));
	long_domain(buf, 254);
	ck_assert(!dns_subdomain_valid(buf));
	ck_assert(!dns_label_valid(NULL));
	ck_assert(!dns_subdomain_valid(NULL));
}
END_TEST

START_TEST(test_wal_name)
{
	ck_assert(parse_wal_name("0000000000000000-0000000000000000.wal"));
	ck_assert(parse_wal_name("000000000000001a-00000000000f4240.wal"));
	ck_assert(!parse_wal_name("0.wal"));
	ck_assert(!parse_wal_name(".wal"));
	ck_assert(!parse_wal_name("000000000000001A-00000000000f4240.wal"));
	ck_assert(!parse_wal_name("0000000000000000-0000000000000000.wal.broken"));
	ck_assert(!parse_wal_name("0000000000000000_0000000000000000.wal"));
	ck_assert(!parse_wal_name("0000000000000000-000000000000000.wal"));
	ck_assert(!parse_wal_name("0.tmp"));
	ck_assert(!parse_wal_name(""));
}
END_TEST

static Suite *parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse_uint, 0, sizeof(uints) / sizeof(uints[0]));
	tcase_add_test(tc, test_parse_uint_null);
	tcase_add_loop_test(tc, test_parse_duration, 0, sizeof(durations) / sizeof(durations[0]));
	tcase_add_loop_test(tc, test_dns_names, 0, sizeof(names) / sizeof(names[0]));
	tcase_add_test(tc, test_dns_subdomain_length);
	tcase_add_test(tc, test_wal_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(parse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
