/* Unit tests of common/endpoints: pod DNS names, peer and client URLs, --initial-cluster. */
#include "endpoints.h"

#include <check.h>
#include <stdlib.h>

static const struct endpoints plain = {
        .set_name = "etcd",
        .service = "etcd",
        .namespace = "default",
        .client_port = 2379,
        .peer_port = 2380,
};

/* Check a malloc'd result against the expected string, and free it. */
static void assert_owned_str(char *got, const char *expected)
{
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, expected);
	free(got);
}

START_TEST(test_member_name)
{
	assert_owned_str(endpoints_member_name(&plain, 0), "etcd-0");
	assert_owned_str(endpoints_member_name(&plain, 2147483646U), "etcd-2147483646");
}
END_TEST

START_TEST(test_host)
{
	struct endpoints e = plain;

	assert_owned_str(endpoints_host(&e, 3), "etcd-3.etcd.default");
	e.cluster_domain = "cluster.local";
	assert_owned_str(endpoints_host(&e, 3), "etcd-3.etcd.default.svc.cluster.local");
}
END_TEST

START_TEST(test_host_service_differs)
{
	struct endpoints e = plain;

	e.set_name = "infra-etcd-cluster";
	e.service = "infra-etcd";
	e.namespace = "prod";
	assert_owned_str(endpoints_host(&e, 12), "infra-etcd-cluster-12.infra-etcd.prod");
}
END_TEST

START_TEST(test_urls)
{
	struct endpoints e = plain;

	assert_owned_str(endpoints_peer_url(&e, 1), "http://etcd-1.etcd.default:2380");
	assert_owned_str(endpoints_client_url(&e, 1), "http://etcd-1.etcd.default:2379");
	e.client_tls = true;
	assert_owned_str(endpoints_client_url(&e, 1), "https://etcd-1.etcd.default:2379");
	assert_owned_str(endpoints_peer_url(&e, 1), "http://etcd-1.etcd.default:2380");
	e.peer_tls = true;
	e.client_tls = false;
	e.peer_port = 12380;
	e.client_port = 12379;
	e.cluster_domain = "example.org";
	assert_owned_str(endpoints_peer_url(&e, 4),
	                 "https://etcd-4.etcd.default.svc.example.org:12380");
	assert_owned_str(endpoints_client_url(&e, 4),
	                 "http://etcd-4.etcd.default.svc.example.org:12379");
}
END_TEST

START_TEST(test_initial_cluster)
{
	struct endpoints e = plain;

	assert_owned_str(endpoints_initial_cluster(&e, 1),
	                 "etcd-0=http://etcd-0.etcd.default:2380");
	assert_owned_str(endpoints_initial_cluster(&e, 3),
	                 "etcd-0=http://etcd-0.etcd.default:2380,"
	                 "etcd-1=http://etcd-1.etcd.default:2380,"
	                 "etcd-2=http://etcd-2.etcd.default:2380");
	e.peer_tls = true;
	e.cluster_domain = "cluster.local";
	assert_owned_str(endpoints_initial_cluster(&e, 2),
	                 "etcd-0=https://etcd-0.etcd.default.svc.cluster.local:2380,"
	                 "etcd-1=https://etcd-1.etcd.default.svc.cluster.local:2380");
}
END_TEST

START_TEST(test_initial_cluster_empty)
{
	/* NULL only on out of memory: size 0 is the empty string */
	assert_owned_str(endpoints_initial_cluster(&plain, 0), "");
}
END_TEST

static Suite *endpoints_suite(void)
{
	Suite *s = suite_create("endpoints");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, test_member_name);
	tcase_add_test(tc, test_host);
	tcase_add_test(tc, test_host_service_differs);
	tcase_add_test(tc, test_urls);
	tcase_add_test(tc, test_initial_cluster);
	tcase_add_test(tc, test_initial_cluster_empty);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(endpoints_suite());
	int failures;

	srunner_run_all(sr, CK_ENV);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
