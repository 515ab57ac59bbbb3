/* Unit tests of common/state: the helper folder's path and atomic writes, the cluster
 * marker and the tombstone, round trips and garbage. */
#include "testmember.h"
#include "state.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const struct {
	const char *data_dir, *helper;
} helpers[] = {
        {"/var/run/etcd/default.etcd", "/var/run/etcd/.etcd-hooks"},
        {"/var/run/etcd/default.etcd/", "/var/run/etcd/.etcd-hooks"},
        {"/var/run/etcd/default.etcd//", "/var/run/etcd/.etcd-hooks"},
        {"/data/etcd", "/data/.etcd-hooks"},
        {"/default.etcd", "/.etcd-hooks"},
};

START_TEST(test_helper_dir)
{
	char *h = state_helper_dir(helpers[_i].data_dir);

	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(h, helpers[_i].helper);
	free(h);
}
END_TEST

/* The names in tmp/rel, sorted, joined by spaces. */

START_TEST(test_write_atomic)
{
	struct error err;
	struct stat st;
	char names[256];

	error_clear(&err);
	/* the helper dir is created, 0700 */
	ck_assert_int_eq(state_write_atomic(AT("h"), "state", "first version\n", &err), 0);
	ck_assert_int_eq(stat(AT("h"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	assert_file("h/state", "first version\n", 0600);

	/* overwritten whole, by a shorter content */
	ck_assert_int_eq(state_write_atomic(AT("h"), "state", "v2\n", &err), 0);
	assert_file("h/state", "v2\n", 0600);

	/* a file of another mode is replaced by a 0600 one */
	make_file("h/other", "old");
	ck_assert_int_eq(chmod(AT("h/other"), 0644), 0);
	ck_assert_int_eq(state_write_atomic(AT("h"), "other", "", &err), 0);
	assert_file("h/other", "", 0600);

	list_dir("h", names, sizeof(names));
	ck_assert_str_eq(names, "other state"); /* no temp file left */
}
END_TEST

START_TEST(test_write_atomic_error)
{
	struct error err;

	error_clear(&err);
	make_file("f", "a file, not a dir");
	ck_assert_int_lt(state_write_atomic(AT("f"), "state", "x", &err), 0);
	ck_assert(err.msg[0]);
	ck_assert_int_lt(state_write_atomic(AT("no/such/parent"), "state", "x", &err), 0);
}
END_TEST

static void marker_round_trip(uint64_t cluster, uint64_t member)
{
	uint64_t c = 0, m = 0;
	struct error err;
	int r;

	error_clear(&err);
	r = state_marker_write(AT("d"), cluster, member, &err);
	ck_assert_msg(r == 0, "%d: %s", r, err.msg);
	r = state_marker_read(AT("d"), &c, &m, &err);
	ck_assert_msg(r == 0, "%d: %s", r, err.msg);
	ck_assert_uint_eq(c, cluster);
	ck_assert_uint_eq(m, member);
}

START_TEST(test_marker_round_trip)
{
	struct stat st;

	marker_round_trip(UINT64_C(14841639068965178418), UINT64_C(10276657743932975437));
	marker_round_trip(UINT64_MAX, UINT64_C(9223372036854775808)); /* INT64_MAX + 1 */
	marker_round_trip(1, 2);
	/* in the helper folder beside the data dir, 0600; the data dir is not created */
	ck_assert_int_eq(stat(AT(".etcd-hooks/cluster"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(access(AT("d"), F_OK), -1);
}
END_TEST

START_TEST(test_marker_missing)
{
	uint64_t c = 7, m = 8;
	struct error err;

	error_clear(&err);
	ck_assert_int_eq(state_marker_read(AT("d"), &c, &m, &err), -ENOENT);
	make_dir(".etcd-hooks");
	ck_assert_int_eq(state_marker_read(AT("d"), &c, &m, &err), -ENOENT);
	ck_assert_uint_eq(c, 7);
	ck_assert_uint_eq(m, 8);
}
END_TEST

static const char *const bad_markers[] = {
        "",
        "garbage\n",
        "\x01\x02\x03\xff",
        "cluster_id=\nmember_id=2\n",
        "cluster_id=12\n",
        "cluster_id=abc\nmember_id=2\n",
        "cluster_id=-1\nmember_id=2\n",
        "cluster_id=18446744073709551616\nmember_id=2\n", /* UINT64_MAX + 1 */
        "cluster_id=1\nmember_id=99999999999999999999999\n",
        "member=1\ncluster=2\n",
};

START_TEST(test_marker_garbage)
{
	uint64_t c = 7, m = 8;
	struct error err;
	int r;

	make_dir(".etcd-hooks");
	make_file(".etcd-hooks/cluster", bad_markers[_i]);
	error_clear(&err);
	r = state_marker_read(AT("d"), &c, &m, &err);
	ck_assert_msg(r == -EBADMSG, "marker '%s' gives %d", bad_markers[_i], r);
	ck_assert_int_eq(err.code, -EBADMSG);
	ck_assert_msg(strstr(err.msg, AT(".etcd-hooks/cluster")),
	              "the message '%s' does not name the marker", err.msg);
	ck_assert_uint_eq(c, 7);
	ck_assert_uint_eq(m, 8);
}
END_TEST

/* ---- the tombstone ---- */

static void tombstone_round_trip(uint64_t member, uint64_t cluster, bool removed)
{
	struct state_tombstone t = {.member_id = member, .cluster_id = cluster, .removed = removed},
	                       got = {0};
	struct error err;
	int r;

	error_clear(&err);
	r = state_tombstone_write(AT("d"), &t, &err);
	ck_assert_msg(r == 0, "%d: %s", r, err.msg);
	r = state_tombstone_read(AT("d"), &got, &err);
	ck_assert_msg(r == 0, "%d: %s", r, err.msg);
	ck_assert_uint_eq(got.member_id, member);
	ck_assert_uint_eq(got.cluster_id, cluster);
	ck_assert(got.removed == removed);
}

START_TEST(test_tombstone_round_trip)
{
	struct stat st;

	tombstone_round_trip(UINT64_C(10276657743932975437), UINT64_C(14841639068965178418), true);
	tombstone_round_trip(UINT64_MAX, UINT64_C(9223372036854775808), false);
	/* a later write replaces the earlier one: "removing", then "removed" */
	tombstone_round_trip(1, 2, false);
	tombstone_round_trip(1, 2, true);
	/* in the helper folder beside the data dir, 0600; the data dir is not created */
	ck_assert_int_eq(stat(AT(".etcd-hooks/tombstone"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(access(AT("d"), F_OK), -1);
	assert_file(".etcd-hooks/tombstone", "member_id=1\ncluster_id=2\nstate=removed\n", 0600);
}
END_TEST

START_TEST(test_tombstone_missing)
{
	struct state_tombstone t = {.member_id = 7, .cluster_id = 8};
	struct error err;

	error_clear(&err);
	ck_assert_int_eq(state_tombstone_read(AT("d"), &t, &err), -ENOENT);
	make_dir(".etcd-hooks");
	ck_assert_int_eq(state_tombstone_read(AT("d"), &t, &err), -ENOENT);
	ck_assert_uint_eq(t.member_id, 7);
	ck_assert_uint_eq(t.cluster_id, 8);
	ck_assert(!t.removed);
}
END_TEST

static const char *const bad_tombstones[] = {
        "",
        "garbage\n",
        "\x01\x02\x03\xff",
        "member_id=1\ncluster_id=2\n", /* no state */
        "member_id=1\ncluster_id=2\nstate=gone\n",
        "member_id=1\ncluster_id=2\nstate=\n",
        "member_id=1\nstate=removed\n",
        "cluster_id=2\nstate=removed\n",
        "member_id=abc\ncluster_id=2\nstate=removed\n",
        "member_id=-1\ncluster_id=2\nstate=removed\n",
        "member_id=\ncluster_id=2\nstate=removed\n",
        "member_id=18446744073709551616\ncluster_id=2\nstate=removed\n", /* UINT64_MAX + 1 */
        "member_id=1\ncluster_id=2 \nstate=removed\n",
};

START_TEST(test_tombstone_garbage)
{
	struct state_tombstone t = {.member_id = 7, .cluster_id = 8};
	struct error err;
	int r;

	make_dir(".etcd-hooks");
	make_file(".etcd-hooks/tombstone", bad_tombstones[_i]);
	error_clear(&err);
	r = state_tombstone_read(AT("d"), &t, &err);
	ck_assert_msg(r == -EBADMSG, "tombstone '%s' gives %d", bad_tombstones[_i], r);
	ck_assert_int_eq(err.code, -EBADMSG);
	ck_assert_msg(err.msg[0], "no message");
	ck_assert_uint_eq(t.member_id, 7);
	ck_assert_uint_eq(t.cluster_id, 8);
}
END_TEST

START_TEST(test_tombstone_clear)
{
	struct state_tombstone t = {.member_id = 5, .cluster_id = 6, .removed = true};
	struct error err;

	error_clear(&err);
	/* none at all (not even a helper folder): fine */
	ck_assert_int_eq(state_tombstone_clear(AT("d"), &err), 0);
	ck_assert_int_eq(state_tombstone_write(AT("d"), &t, &err), 0);
	make_file(".etcd-hooks/cluster", "cluster_id=6\nmember_id=5\n");
	ck_assert_int_eq(state_tombstone_clear(AT("d"), &err), 0);
	ck_assert_int_eq(state_tombstone_read(AT("d"), &t, &err), -ENOENT);
	ck_assert_int_eq(access(AT(".etcd-hooks/tombstone"), F_OK), -1);
	/* only the tombstone goes */
	ck_assert_int_eq(access(AT(".etcd-hooks/cluster"), F_OK), 0);
	ck_assert_int_eq(state_tombstone_clear(AT("d"), &err), 0);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("helper");

	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_loop_test(tc, test_helper_dir, 0, sizeof(helpers) / sizeof(helpers[0]));
	tcase_add_test(tc, test_write_atomic);
	tcase_add_test(tc, test_write_atomic_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("marker");
	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_test(tc, test_marker_round_trip);
	tcase_add_test(tc, test_marker_missing);
	tcase_add_loop_test(tc, test_marker_garbage, 0,
	                    sizeof(bad_markers) / sizeof(bad_markers[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("tombstone");
	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_test(tc, test_tombstone_round_trip);
	tcase_add_test(tc, test_tombstone_missing);
	tcase_add_loop_test(tc, test_tombstone_garbage, 0,
	                    sizeof(bad_tombstones) / sizeof(bad_tombstones[0]));
	tcase_add_test(tc, test_tombstone_clear);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testdir_run("state", state_suite());
}
