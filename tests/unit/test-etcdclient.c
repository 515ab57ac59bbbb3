/* common/etcd's client against a REAL etcd 3.4.23 on loopback (ETCD_BIN, set by meson; the
 * `etcd` suite, and a missing binary fails the test): auth on, and a token that expires
 * between two calls (etcd's --auth-token-ttl 1, a sliding TTL) is renewed, once, for a
 * unary call and for the snapshot stream, which a hook may start after a long wait. */
#include "testdir.h"
#include "testetcd.h"
#include "etcd.h"
#include "http.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longer than the token's TTL (1 s) with etcd's 1 s expiry tick: the token is gone. */
#define PAST_TTL_S 4

static void wait_ready(struct http_client *h, const char *url)
{
	double until = now() + 30;
	struct etcd_version v;
	struct error err;

	for (;;) {
		struct deadline d;

		error_clear(&err);
		deadline_init(&d, 1000);
		if (etcd_version_get(h, url, &d, &v, &err) == 0)
			return;
		ck_assert_msg(now() < until, "etcd at %s does not answer after 30 s: %s", url,
		              err.msg);
		usleep(50000);
	}
}

/* One call of etcd's API that must answer 200. */
static void post(struct http_client *h, const char *url, const char *path, const char *body)
{
	char full[256];
	struct http_response resp = {0};
	struct deadline d;
	struct error err;

	snprintf(full, sizeof(full), "%s/v3/%s", url, path);
	error_clear(&err);
	deadline_init(&d, 10000);
	ck_assert_msg(http_request(h, "POST", full, body, &d, &resp, &err) == 0, "%s: %s", path,
	              err.msg);
	ck_assert_msg(resp.status == 200, "%s: HTTP %ld: %.*s", path, resp.status, (int)resp.len,
	              resp.body ? resp.body : "");
	http_response_free(&resp);
}

START_TEST(test_token_expired)
{
	static const char *const ttl[] = {"--auth-token-ttl", "1", NULL};
	const char *bin = test_etcd_bin();
	struct http_options ho = {.call_timeout_ms = 10000};
	struct http_client *h = NULL;
	struct etcd_client *c = NULL;
	struct etcd_member_list l;
	struct test_etcd e;
	struct deadline d;
	struct error err;
	struct stat st;
	uint64_t bytes = 0;
	char url[64];
	const char *urls[1] = {url};
	int fd;

	start_etcd(bin, &e, ttl);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", e.port[0]);
	error_clear(&err);
	ck_assert_int_eq(http_global_init(&err), 0);
	ck_assert_int_eq(http_client_new(&ho, &h, &err), 0);
	wait_ready(h, url);
	post(h, url, "auth/role/add", "{\"name\":\"root\"}");
	post(h, url, "auth/user/add", "{\"name\":\"root\",\"password\":\"test-pw\"}");
	post(h, url, "auth/user/grant", "{\"user\":\"root\",\"role\":\"root\"}");
	post(h, url, "auth/enable", "{}");

	ck_assert_int_eq(http_client_set_login(h, "root", "test-pw"), 0);
	ck_assert_int_eq(etcd_client_new(h, urls, 1, &c, &err), 0);
	deadline_init(&d, 20000);
	ck_assert_msg(etcd_member_list(c, &d, &l, &err) == 0, "the first call: %s", err.msg);
	ck_assert_uint_eq(l.n_members, 1);
	etcd_member_list_free(&l);
	ck_assert(http_client_has_auth(h));

	/* a unary call after the token expired */
	sleep(PAST_TTL_S);
	deadline_init(&d, 20000);
	ck_assert_msg(etcd_member_list(c, &d, &l, &err) == 0, "a call past the TTL: %s", err.msg);
	etcd_member_list_free(&l);

	/* the snapshot stream after the token expired: the db and its hash, checked */
	sleep(PAST_TTL_S);
	fd = open(AT("snap.db"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	deadline_init(&d, 20000);
	ck_assert_msg(etcd_snapshot(c, &d, 20000, fd, 64u << 20, &bytes, &err) == 0,
	              "a snapshot past the TTL: %s", err.msg);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_gt(bytes, 32); /* the db, then its SHA-256 */
	ck_assert_uint_eq((uint64_t)st.st_size, bytes);
	close(fd);

	etcd_client_free(c);
	http_client_free(h);
	stop_etcd(&e);
}
END_TEST

static Suite *etcdclient_suite(void)
{
	Suite *s = suite_create("etcdclient");
	TCase *tc = tcase_create("real_etcd");

	tcase_set_tags(tc, "etcd");
	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_token_expired);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testdir_run("etcdclient", etcdclient_suite());
}
