/* kube_parse_replicas on StatefulSet and Status objects shaped like the API server's. */
#include "kube.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(long status, const char *body, unsigned *ret, struct error *err)
{
	error_clear(err);
	return kube_parse_replicas(status, body, strlen(body), ret, err);
}

START_TEST(test_replicas)
{
	struct error err;
	unsigned n = 99;

	ck_assert_int_eq(parse(200,
	                       "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":"
	                       "{\"name\":\"etcd\",\"namespace\":\"default\"},\"spec\":{\"replicas"
	                       "\":3,\"serviceName\":\"etcd\"},\"status\":{\"replicas\":5}}",
	                       &n, &err),
	                 0);
	ck_assert_uint_eq(n, 3); /* spec, not status: the desired count */
	ck_assert_int_eq(
	        parse(200, "{\"kind\":\"StatefulSet\",\"spec\":{\"replicas\":0}}", &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	/* Kubernetes defaults an absent replicas to 1. */
	ck_assert_int_eq(parse(200, "{\"kind\":\"StatefulSet\",\"spec\":{}}", &n, &err), 0);
	ck_assert_uint_eq(n, 1);
}
END_TEST

/* The mark that the cluster formed: the annotation's value, "" without it, "?" for a value
 * that is not a string; a bad annotations object does not hide the replicas. */
START_TEST(test_formed_annotation)
{
	struct kube_statefulset sts;
	struct error err;
	const char *with = "{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"etcd\","
	                   "\"annotations\":{\"x\":\"y\",\"" KUBE_FORMED_ANNOTATION
	                   "\":\"5962940097474907734\"}},\"spec\":{\"replicas\":5}}";

	error_clear(&err);
	ck_assert_int_eq(kube_parse_statefulset(200, with, strlen(with), &sts, &err), 0);
	ck_assert_uint_eq(sts.replicas, 5);
	ck_assert_str_eq(sts.formed_cluster, "5962940097474907734");
	{
		const char *none = "{\"kind\":\"StatefulSet\",\"metadata\":{\"annotations\":"
		                   "{\"x\":\"y\"}},\"spec\":{\"replicas\":3}}";

		ck_assert_int_eq(kube_parse_statefulset(200, none, strlen(none), &sts, &err), 0);
	}
	ck_assert_str_eq(sts.formed_cluster, "");
	{
		const char *odd = "{\"kind\":\"StatefulSet\",\"metadata\":{\"annotations\":{"
		                  "\"" KUBE_FORMED_ANNOTATION "\":7}},\"spec\":{}}";

		ck_assert_int_eq(kube_parse_statefulset(200, odd, strlen(odd), &sts, &err), 0);
		ck_assert_str_eq(sts.formed_cluster, "?");
		ck_assert_uint_eq(sts.replicas, 1);
	}
	{
		const char *bad = "{\"kind\":\"StatefulSet\",\"metadata\":{\"annotations\":[]},"
		                  "\"spec\":{\"replicas\":2}}";

		ck_assert_int_eq(kube_parse_statefulset(200, bad, strlen(bad), &sts, &err), 0);
		ck_assert_str_eq(sts.formed_cluster, "");
		ck_assert_uint_eq(sts.replicas, 2);
	}
}
END_TEST

/* status.replicas, the pods the controller created: a count, or UINT_MAX when absent or
 * not a count (never a reason to refuse the object: spec.replicas is what matters). */
START_TEST(test_created)
{
	static const struct {
		const char *status;
		unsigned want;
	} t[] = {
	        {",\"status\":{\"replicas\":4}", 4},
	        {",\"status\":{\"replicas\":0}", 0},
	        {",\"status\":{}", UINT_MAX},
	        {"", UINT_MAX},
	        {",\"status\":{\"replicas\":-1}", UINT_MAX},
	        {",\"status\":{\"replicas\":\"4\"}", UINT_MAX},
	        {",\"status\":{\"replicas\":4.5}", UINT_MAX},
	        {",\"status\":{\"replicas\":4294967296}", UINT_MAX},
	        {",\"status\":[]", UINT_MAX},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char body[256];
		struct kube_statefulset sts;
		struct error err;

		snprintf(body, sizeof(body),
		         "{\"kind\":\"StatefulSet\",\"spec\":{\"replicas\":5}%s}", t[i].status);
		error_clear(&err);
		ck_assert_msg(kube_parse_statefulset(200, body, strlen(body), &sts, &err) == 0,
		              "%s: %s", body, err.msg);
		ck_assert_msg(sts.created == t[i].want, "%s: created %u", body, sts.created);
		ck_assert_uint_eq(sts.replicas, 5);
	}
}
END_TEST

START_TEST(test_status_objects)
{
	struct error err;
	unsigned n = 7;

	ck_assert_int_eq(parse(401,
	                       "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status"
	                       "\":\"Failure\",\"message\":\"Unauthorized\",\"reason\":"
	                       "\"Unauthorized\",\"code\":401}",
	                       &n, &err),
	                 -EACCES);
	ck_assert_ptr_nonnull(strstr(err.msg, "Unauthorized"));
	ck_assert_int_eq(parse(404,
	                       "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":"
	                       "\"statefulsets.apps \\\"x\\\" not found\",\"reason\":\"NotFound\","
	                       "\"code\":404}",
	                       &n, &err),
	                 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "not found"));
	ck_assert_int_eq(
	        parse(403,
	              "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":"
	              "\"statefulsets.apps \\\"x\\\" is forbidden\",\"reason\":\"Forbidden\","
	              "\"code\":403}",
	              &n, &err),
	        -EACCES);
	ck_assert_ptr_nonnull(strstr(err.msg, "forbidden"));
	/* any other failure is neither "not found" nor "forbidden": the member stays */
	ck_assert_int_eq(parse(500,
	                       "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":"
	                       "\"etcdserver: request timed out\",\"code\":500}",
	                       &n, &err),
	                 -EREMOTEIO);
	ck_assert_int_eq(parse(429, "{\"kind\":\"Status\",\"code\":429}", &n, &err), -EREMOTEIO);
	ck_assert_uint_eq(n, 7); /* untouched on error */
}
END_TEST

START_TEST(test_bad)
{
	static const char *const bodies[] = {
	        "",
	        "null",
	        "[]",
	        "<html><body>502 Bad Gateway</body></html>",
	        "{\"kind\":\"StatefulSet\",\"spec\":{\"replicas\":-1}}",
	        "{\"kind\":\"StatefulSet\",\"spec\":{\"replicas\":\"3\"}}",
	        "{\"kind\":\"StatefulSet\",\"spec\":{\"replicas\":3.5}}",
	        "{\"kind\":\"StatefulSet\",\"spec\":{\"replicas\":99999999999}}",
	        "{\"kind\":\"Deployment\",\"spec\":{\"replicas\":3}}",
	        "{\"kind\":\"StatefulSet\",\"spec\":{\"replicas\":3}", /* truncated */
	};
	struct error err;
	unsigned n = 7;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		int r = parse(200, bodies[i], &n, &err);

		ck_assert_msg(r == -EBADMSG, "body %zu: %d", i, r);
		ck_assert_msg(err.msg[0], "body %zu: no message", i);
		ck_assert_uint_eq(n, 7);
	}
	/* A StatefulSet with a non-200 status is not trusted either. */
	ck_assert_int_eq(
	        parse(500, "{\"kind\":\"StatefulSet\",\"spec\":{\"replicas\":3}}", &n, &err),
	        -EBADMSG);
}
END_TEST

START_TEST(test_not_in_cluster)
{
	struct error err;
	unsigned n = 7;

	unsetenv("KUBERNETES_SERVICE_HOST");
	error_clear(&err);
	ck_assert_int_eq(kube_statefulset_replicas("/nonexistent", NULL, "etcd", NULL, &n, &err),
	                 -ENXIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "KUBERNETES_SERVICE_HOST"));
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	error_clear(&err);
	ck_assert_int_eq(kube_statefulset_replicas("/nonexistent", NULL, "etcd", NULL, &n, &err),
	                 -ENXIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "token"));
	ck_assert_uint_eq(n, 7);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kube");
	TCase *tc = tcase_create("kube");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_replicas);
	tcase_add_test(tc, test_status_objects);
	tcase_add_test(tc, test_created);
	tcase_add_test(tc, test_formed_annotation);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_not_in_cluster);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
