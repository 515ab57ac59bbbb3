/* Unit tests of common/identity: strict "<set>-<ordinal>" parsing and the SET_NAME check. */
#include "identity.h"

#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *name;
	const char *set_name;
	unsigned ordinal;
} good[] = {
        {"a-b-12", "a-b", 12},
        {"etcd-0", "etcd", 0},
        {"infra-etcd-cluster-3", "infra-etcd-cluster", 3},
        {"x1-2147483646", "x1", 2147483646U}, /* IDENTITY_MAX_ORDINAL */
        {"0-7", "0", 7},
};

START_TEST(test_parse_good)
{
	struct identity id;
	struct error err;

	error_clear(&err);
	ck_assert_int_eq(identity_parse(good[_i].name, &id, &err), 0);
	ck_assert_str_eq(id.name, good[_i].name);
	ck_assert_str_eq(id.set_name, good[_i].set_name);
	ck_assert_uint_eq(id.ordinal, good[_i].ordinal);
}
END_TEST

static const char *const bad[] = {
        "a-",            /* no ordinal */
        "a-1x",          /* not digits */
        "-3",            /* no set name */
        "a-99999999999", /* above IDENTITY_MAX_ORDINAL */
        "a-2147483647",  /* IDENTITY_MAX_ORDINAL + 1 */
        "a-01",          /* leading zero */
        "a-00",
        "a",      /* no dash at all */
        "",       /* empty */
        "Etcd-1", /* upper case */
        "etcd-+1",
        "etcd- 1",
        "etcd_1-1",
        "etcd.x-1",
        "a--3", /* the set part "a-" is not a DNS label */
        /* 64 characters */
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-1",
        /* 100 characters */
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aa"
        "aaaaaa-1",
};

START_TEST(test_parse_bad)
{
	struct identity id = {.ordinal = 4242};
	struct error err;

	error_clear(&err);
	ck_assert_msg(identity_parse(bad[_i], &id, &err) == -EINVAL, "'%s' was accepted", bad[_i]);
	ck_assert_int_eq(err.code, -EINVAL);
	ck_assert_msg(err.msg[0] != '\0', "no message for '%s'", bad[_i]);
	ck_assert_uint_eq(id.ordinal, 4242); /* ret is written only on success */
}
END_TEST

START_TEST(test_parse_63_chars)
{
	/* 61 + "-1" = 63 characters: the longest valid pod name */
	const char *name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-1";
	struct identity id;
	struct error err;

	ck_assert_uint_eq(strlen(name), 63);
	ck_assert_int_eq(identity_parse(name, &id, &err), 0);
	ck_assert_uint_eq(strlen(id.set_name), 61);
	ck_assert_uint_eq(id.ordinal, 1);
}
END_TEST

START_TEST(test_parse_null)
{
	struct identity id;
	struct error err;

	ck_assert_int_eq(identity_parse(NULL, &id, &err), -EINVAL);
}
END_TEST

START_TEST(test_resolve_match)
{
	struct identity id;
	struct error err;

	error_clear(&err);
	ck_assert_int_eq(identity_resolve("etcd-2", "etcd", &id, &err), 0);
	ck_assert_str_eq(id.set_name, "etcd");
	ck_assert_uint_eq(id.ordinal, 2);
	/* no SET_NAME: taken from the name */
	ck_assert_int_eq(identity_resolve("web-db-5", NULL, &id, &err), 0);
	ck_assert_str_eq(id.set_name, "web-db");
	ck_assert_uint_eq(id.ordinal, 5);
}
END_TEST

START_TEST(test_resolve_mismatch)
{
	struct identity id = {.ordinal = 4242};
	struct error err;

	error_clear(&err);
	ck_assert_int_eq(identity_resolve("etcd-2", "infra-etcd", &id, &err), -EINVAL);
	ck_assert_int_eq(err.code, -EINVAL);
	ck_assert_msg(strstr(err.msg, "etcd-2") && strstr(err.msg, "infra-etcd"),
	              "the message names neither side: %s", err.msg);
	ck_assert_uint_eq(id.ordinal, 4242);
	/* a prefix of the set name is not the set name */
	ck_assert_int_eq(identity_resolve("infra-etcd-2", "infra", &id, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "infra-etcd-2") && strstr(err.msg, "'infra'"), "%s", err.msg);
}
END_TEST

START_TEST(test_resolve_bad_name)
{
	struct identity id;
	struct error err;

	error_clear(&err);
	ck_assert_int_eq(identity_resolve("etcd-x", "etcd", &id, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "etcd-x"));
}
END_TEST

/* name NULL: the host name. In a private UTS namespace (root) the host name is ours to set,
 * and a FQDN is cut at the first dot like a pod's; elsewhere it must at least not crash. */
START_TEST(test_resolve_hostname)
{
	const char *fqdn = "etcd-7.etcd.default.svc.cluster.local";
	struct identity id;
	struct error err;
	int r;

	error_clear(&err);
	if (unshare(CLONE_NEWUTS) == 0 && sethostname(fqdn, strlen(fqdn)) == 0) {
		ck_assert_int_eq(identity_resolve(NULL, "etcd", &id, &err), 0);
		ck_assert_str_eq(id.name, "etcd-7");
		ck_assert_uint_eq(id.ordinal, 7);
		ck_assert_int_eq(identity_resolve(NULL, "other", &id, &err), -EINVAL);
		return;
	}
	r = identity_resolve(NULL, NULL, &id, &err);
	ck_assert_msg(r == 0 || r == -EINVAL, "identity_resolve(NULL) returned %d", r);
	ck_assert_msg(r == 0 || err.msg[0], "an error without a message");
}
END_TEST

static Suite *identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse_good, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, test_parse_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_parse_63_chars);
	tcase_add_test(tc, test_parse_null);
	suite_add_tcase(s, tc);
	tc = tcase_create("resolve");
	tcase_add_test(tc, test_resolve_match);
	tcase_add_test(tc, test_resolve_mismatch);
	tcase_add_test(tc, test_resolve_bad_name);
	tcase_add_test(tc, test_resolve_hostname);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(identity_suite());
	int failures;

	srunner_run_all(sr, CK_ENV);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
