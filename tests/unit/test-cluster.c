/* Unit tests of common/cluster's pure decoding of a peer port's answer, on GET /members
 * bodies recorded from real etcd 3.3.25, 3.4.23 and 3.5.16 (a formed cluster, and a member
 * bootstrapping alone: data/etcd-*-peer-members*.json) and on the answers of etcd-join's
 * beacon; and of common/beacon, served on loopback and read back with common/http. */
#include "beacon.h"
#include "cluster.h"
#include "endpoints.h"
#include "http.h"
#include "settings.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *load(const char *name, size_t *ret_len)
{
	const char *dir = getenv("TEST_DATA");
	char path[4096], *buf;
	long size;
	FILE *f;

	ck_assert_msg(dir != NULL, "TEST_DATA is not set (meson sets it)");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open '%s'", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	buf = malloc(size ? (size_t)size : 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*ret_len = (size_t)size;
	return buf;
}

static enum peer_heard parse_text(long status, const char *text)
{
	char detail[512];
	enum peer_heard h =
	        cluster_parse_peer_answer(status, text, strlen(text), detail, sizeof(detail));

	ck_assert_msg(detail[0], "no detail for HTTP %ld '%s'", status, text);
	return h;
}

static const char *const series[] = {"3.3", "3.4", "3.5"};

/* A formed cluster's peer port lists started members (with client URLs). */
START_TEST(test_recorded_formed)
{
	char name[64], detail[512], *body;
	size_t len;

	snprintf(name, sizeof(name), "etcd-%s-peer-members.json", series[_i]);
	body = load(name, &len);
	ck_assert_int_eq(cluster_parse_peer_answer(200, body, len, detail, sizeof(detail)),
	                 PEER_FORMED);
	ck_assert_ptr_nonnull(strstr(detail, "started"));
	free(body);
}
END_TEST

/* A member of a bootstrap that has no quorum yet: every member listed, none started. */
START_TEST(test_recorded_bootstrapping)
{
	char name[64], detail[512], *body;
	size_t len;

	snprintf(name, sizeof(name), "etcd-%s-peer-members-bootstrapping.json", series[_i]);
	body = load(name, &len);
	ck_assert_int_eq(cluster_parse_peer_answer(200, body, len, detail, sizeof(detail)),
	                 PEER_BOOTSTRAPPING);
	ck_assert_ptr_nonnull(strstr(detail, "0 started"));
	free(body);
}
END_TEST

/* etcd-join's beacon: empty and never formed, data or a marker of a formed cluster, and
 * partial data that is about to be moved aside (nothing definite yet). */
START_TEST(test_beacon_answers)
{
	ck_assert_int_eq(parse_text(503, "{\"etcd-hooks\":{\"member\":\"etcd-1\",\"data\":"
	                                 "\"empty\",\"formed\":false}}"),
	                 PEER_EMPTY);
	ck_assert_int_eq(parse_text(503, "{\"etcd-hooks\":{\"member\":\"etcd-1\",\"data\":"
	                                 "\"valid\",\"formed\":true,\"cluster_id\":\"7\"}}"),
	                 PEER_HAS_DATA);
	ck_assert_int_eq(parse_text(503, "{\"etcd-hooks\":{\"data\":\"empty\",\"formed\":true}}"),
	                 PEER_HAS_DATA);
	ck_assert_int_eq(parse_text(503, "{\"etcd-hooks\":{\"data\":\"valid\",\"formed\":false}}"),
	                 PEER_HAS_DATA);
	ck_assert_int_eq(
	        parse_text(503, "{\"etcd-hooks\":{\"data\":\"partial\",\"formed\":false}}"),
	        PEER_SILENT);
}
END_TEST

/* Anything else is unreadable: never "empty", never "nobody there". */
START_TEST(test_unreadable)
{
	static const struct {
		long status;
		const char *body;
	} t[] = {
	        {200, "<html><body>hello</body></html>"},
	        {200, "[]"},
	        {200, "{\"members\":[]}"},
	        {200, "[{\"id\":1,\"peerURLs\":[\"http://x:2380\"],\"name\":3}]"},
	        {200, "[{\"id\":1,"},
	        {200, ""},
	        {404, "404 page not found"},
	        {503, "{\"health\":\"false\"}"},
	        {503, "<html>Service Unavailable</html>"},
	        {503, "{\"etcd-hooks\":{}}"},
	        {503, "{\"etcd-hooks\":{\"data\":\"empty\"}}"},
	        {503, "{\"etcd-hooks\":{\"data\":1,\"formed\":false}}"},
	        {503, "{\"etcd-hooks\":[]}"},
	        {502, "{\"etcd-hooks\":{\"data\":\"empty\",\"formed\":false}}"},
	        {500, "{\"error\":\"etcdserver: request timed out\",\"code\":14}"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(parse_text(t[i].status, t[i].body) == PEER_UNREADABLE,
		              "HTTP %ld '%s' is not unreadable", t[i].status, t[i].body);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(cluster_peer_heard_name(PEER_SILENT), "silent");
	ck_assert_str_eq(cluster_peer_heard_name(PEER_EMPTY), "empty");
	ck_assert_str_eq(cluster_peer_heard_name(PEER_FORMED), "formed");
}
END_TEST

/* GET <url>/members as the probe asks it; returns the classification. */
static enum peer_heard ask(struct http_client *http, unsigned port, struct error *err)
{
	struct http_response resp = {0};
	char url[64], detail[512];
	struct deadline d;
	enum peer_heard h;
	int r;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/members", port);
	deadline_init(&d, 2000);
	error_clear(err);
	r = http_request(http, "GET", url, NULL, &d, &resp, err);
	if (r < 0)
		return (enum peer_heard) - 1;
	h = cluster_parse_peer_answer(resp.status, resp.body, resp.len, detail, sizeof(detail));
	http_response_free(&resp);
	return h;
}

/* The beacon answers from its own thread, while the main thread sleeps or works; the body
 * can change under it; once closed, the port refuses. */
START_TEST(test_beacon_serves)
{
	struct http_options o = {.connect_timeout_ms = 1000, .call_timeout_ms = 2000};
	struct http_client *http = NULL;
	struct beacon *b = NULL;
	struct error err;
	unsigned port;

	error_clear(&err);
	ck_assert_int_eq(http_global_init(&err), 0);
	ck_assert_int_eq(http_client_new(&o, &http, &err), 0);
	ck_assert_msg(beacon_open(0, &b, &err) == 0, "%s", err.msg);
	port = beacon_port(b);
	ck_assert_uint_gt(port, 0);
	/* before a body is set: an etcd-hooks answer without data, which says nothing */
	ck_assert_int_eq(ask(http, port, &err), PEER_UNREADABLE);
	beacon_set_body(b, "{\"etcd-hooks\":{\"member\":\"etcd-1\",\"data\":\"empty\","
	                   "\"formed\":false}}");
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(ask(http, port, &err), PEER_EMPTY);
	beacon_set_body(b, "{\"etcd-hooks\":{\"member\":\"etcd-1\",\"data\":\"valid\","
	                   "\"formed\":true}}");
	ck_assert_int_eq(ask(http, port, &err), PEER_HAS_DATA);
	/* a second beacon on the same port: refused, the first one goes on */
	{
		struct beacon *other = NULL;

		ck_assert_int_eq(beacon_open(port, &other, &err), -EADDRINUSE);
		ck_assert_ptr_null(other);
		ck_assert_ptr_nonnull(strstr(err.msg, "cannot answer on port"));
	}
	ck_assert_int_eq(ask(http, port, &err), PEER_HAS_DATA);
	beacon_close(b);
	ck_assert_int_eq((int)ask(http, port, &err), -1);
	ck_assert_int_eq(err.code, -ECONNREFUSED);
	beacon_close(NULL);
	http_client_free(http);
}
END_TEST

/* A client URL that takes the connection and never answers (a loaded or partitioned etcd)
 * is not silence: the probe says it cannot tell. One that refuses the connection is. */
START_TEST(test_probe_timeout_is_not_silence)
{
	struct http_options o = {.connect_timeout_ms = 500, .call_timeout_ms = 800};
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct http_client *http = NULL;
	struct settings set;
	struct endpoints ep;
	struct cluster_probe p;
	struct error err;
	socklen_t len = sizeof(a);
	char extra[128];
	int mute = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int gone = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned gone_port;

	/* mute: listens (the kernel completes the handshake) but nobody reads or answers */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(mute, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(mute, 8), 0);
	ck_assert_int_eq(getsockname(mute, (struct sockaddr *)&a, &len), 0);
	/* gone: a port bound and never listened on, so a connection is refused */
	{
		struct sockaddr_in g = {.sin_family = AF_INET};
		socklen_t glen = sizeof(g);

		g.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ck_assert_int_eq(bind(gone, (struct sockaddr *)&g, sizeof(g)), 0);
		ck_assert_int_eq(getsockname(gone, (struct sockaddr *)&g, &glen), 0);
		gone_port = ntohs(g.sin_port);
	}
	error_clear(&err);
	ck_assert_int_eq(http_global_init(&err), 0);
	ck_assert_int_eq(http_client_new(&o, &http, &err), 0);
	settings_init(&set);
	endpoints_init(&ep, &set, "etcd");

	snprintf(extra, sizeof(extra), "http://127.0.0.1:%u", gone_port);
	ck_assert_int_eq(cluster_probe(http,
	                               &(struct cluster_probe_opts){.ep = &ep,
	                                                            .initial_size = 1,
	                                                            .extra = extra,
	                                                            .call_timeout_ms = 800},
	                               &p),
	                 0);
	ck_assert_msg(p.answer == CLUSTER_NONE, "a refused connection: answer %d (%s)", p.answer,
	              p.why);
	cluster_probe_free(&p);

	snprintf(extra, sizeof(extra), "http://127.0.0.1:%u,http://127.0.0.1:%u", gone_port,
	         (unsigned)ntohs(a.sin_port));
	ck_assert_int_eq(cluster_probe(http,
	                               &(struct cluster_probe_opts){.ep = &ep,
	                                                            .initial_size = 1,
	                                                            .extra = extra,
	                                                            .call_timeout_ms = 800},
	                               &p),
	                 0);
	ck_assert_msg(p.answer == CLUSTER_UNREADABLE, "a mute server: answer %d (%s)", p.answer,
	              p.why);
	ck_assert_msg(strstr(p.why, "cannot tell"), "%s", p.why);
	cluster_probe_free(&p);
	http_client_free(http);
	settings_free(&set);
	close(mute);
	close(gone);
}
END_TEST

static Suite *cluster_suite(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("peer");
	const int n_series = (int)(sizeof(series) / sizeof(series[0]));

	tcase_add_loop_test(tc, test_recorded_formed, 0, n_series);
	tcase_add_loop_test(tc, test_recorded_bootstrapping, 0, n_series);
	tcase_add_test(tc, test_beacon_answers);
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("beacon");
	tcase_add_test(tc, test_beacon_serves);
	tcase_add_test(tc, test_probe_timeout_is_not_silence);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cluster_suite());
	int failures;

	srunner_run_all(sr, CK_ENV);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
