/* Unit tests of common/state: the helper folder's path and atomic writes, the cluster
 * marker and the tombstone, round trips and garbage; state_read over all of them. */
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

/* ---- state_read: everything on the volume at once ---- */

/* The recorded head of a real etcd 3.5 WAL (TEST_DATA/wal-3.5.head) as d's first segment,
 * with a db: a valid member of these IDs (TEST_DATA/wal-3.5.ids). */
#define REC_MEMBER  UINT64_C(3905410612707796707)
#define REC_CLUSTER UINT64_C(17332876880493766049)

static void make_recorded_member(void)
{
	const char *dir = getenv("TEST_DATA");
	char path[4096], buf[8192];
	size_t n;
	FILE *in, *out;

	ck_assert_msg(dir != NULL, "TEST_DATA is not set (meson sets it)");
	make_member(NULL, "db-content");
	snprintf(path, sizeof(path), "%s/wal-3.5.head", dir);
	in = fopen(path, "rb");
	ck_assert_msg(in != NULL, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	ck_assert_uint_ge(n, 512);
	out = fopen(AT("d/member/wal/" WAL_NAME), "wb");
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	ck_assert_int_eq(fclose(out), 0);
}

static struct local_state read_state(void)
{
	struct local_state ls;
	struct error err;

	error_clear(&err);
	memset(&ls, 0x5e, sizeof(ls));
	ck_assert_msg(state_read(AT("d"), &ls, &err) == 0, "state_read: %s", err.msg);
	return ls;
}

static void write_tombstone(uint64_t member, uint64_t cluster, bool removed)
{
	struct state_tombstone t = {.member_id = member, .cluster_id = cluster, .removed = removed};
	struct error err;

	error_clear(&err);
	ck_assert_int_eq(state_tombstone_write(AT("d"), &t, &err), 0);
}

START_TEST(test_read_nothing)
{
	struct local_state ls = read_state();

	ck_assert_int_eq(ls.data.state, DATADIR_EMPTY);
	ck_assert(!ls.is_link && !ls.link_dangling && !ls.wal_unreadable);
	ck_assert_int_eq(ls.wal_seen.r, -ENOENT);
	ck_assert_int_eq(ls.marker_seen.r, -ENOENT);
	ck_assert_int_eq(ls.tomb_seen.r, -ENOENT);
	ck_assert(!state_marker_formed(&ls));
	ck_assert(!state_tombstoned(&ls));
}
END_TEST

START_TEST(test_read_member)
{
	struct error err;
	struct local_state ls;

	error_clear(&err);
	make_recorded_member();
	ls = read_state();
	ck_assert_int_eq(ls.data.state, DATADIR_VALID);
	ck_assert_int_eq(ls.wal_seen.r, 0);
	ck_assert_str_eq(ls.wal_seen.error, "");
	ck_assert(ls.wal.member_id == REC_MEMBER && ls.wal.cluster_id == REC_CLUSTER);
	ck_assert(!ls.wal_unreadable && !ls.is_link);
	ck_assert(!state_marker_formed(&ls));

	ck_assert_int_eq(state_marker_write(AT("d"), REC_CLUSTER, REC_MEMBER, &err), 0);
	ls = read_state();
	ck_assert_int_eq(ls.marker_seen.r, 0);
	ck_assert(ls.marker_cluster == REC_CLUSTER && ls.marker_member == REC_MEMBER);
	ck_assert(state_marker_formed(&ls));
	ck_assert(!state_tombstoned(&ls));
}
END_TEST

/* Only a "removed" tombstone of this data's member in this data's cluster counts. */
static const struct {
	uint64_t member, cluster;
	bool removed, counts;
} tombstones[] = {
        {REC_MEMBER, REC_CLUSTER, true, true},
        {REC_MEMBER, REC_CLUSTER, false, false}, /* "removing": the outcome unknown */
        {REC_MEMBER + 1, REC_CLUSTER, true, false},
        {REC_MEMBER, REC_CLUSTER + 1, true, false},
};

START_TEST(test_read_tombstone)
{
	struct local_state ls;

	make_recorded_member();
	write_tombstone(tombstones[_i].member, tombstones[_i].cluster, tombstones[_i].removed);
	ls = read_state();
	ck_assert_int_eq(ls.tomb_seen.r, 0);
	ck_assert(ls.tomb.member_id == tombstones[_i].member);
	ck_assert(state_tombstoned(&ls) == tombstones[_i].counts);

	/* without a WAL that names the member, no tombstone counts */
	ck_assert_int_eq(unlink(AT("d/member/wal/" WAL_NAME)), 0);
	ls = read_state();
	ck_assert_int_eq(ls.wal_seen.r, -ENOENT);
	ck_assert_int_eq(ls.data.state, DATADIR_PARTIAL);
	ck_assert(!state_tombstoned(&ls));
}
END_TEST

/* Garbage in the marker still says a cluster formed; garbage in the tombstone says
 * nothing was removed; both say why. */
START_TEST(test_read_garbage_files)
{
	struct local_state ls;

	make_recorded_member();
	make_dir(".etcd-hooks");
	make_file(".etcd-hooks/cluster", "cluster_id=zz\n");
	make_file(".etcd-hooks/tombstone", "state=removed\n");
	ls = read_state();
	ck_assert_int_eq(ls.marker_seen.r, -EBADMSG);
	ck_assert_msg(strstr(ls.marker_seen.error, "cluster marker"), "'%s'", ls.marker_seen.error);
	ck_assert(state_marker_formed(&ls));
	ck_assert_int_eq(ls.tomb_seen.r, -EBADMSG);
	ck_assert_msg(strstr(ls.tomb_seen.error, "tombstone"), "'%s'", ls.tomb_seen.error);
	ck_assert(!state_tombstoned(&ls));
	ck_assert_int_eq(ls.data.state, DATADIR_VALID);
}
END_TEST

/* A WAL whose bytes are not a WAL makes valid data partial; one that cannot be read at all
 * (here a segment that is a symlink, never followed) leaves it valid and says so. */
START_TEST(test_read_bad_wal)
{
	struct local_state ls;

	make_member("not a wal", "db-content");
	ls = read_state();
	ck_assert_int_eq(ls.data.state, DATADIR_PARTIAL);
	ck_assert_msg(strstr(ls.data.reason, "metadata is unreadable"), "'%s'", ls.data.reason);
	ck_assert(ls.wal_seen.r == -EBADMSG || ls.wal_seen.r == -ENODATA);
	ck_assert(ls.wal_seen.error[0]);
	ck_assert(!ls.wal_unreadable);

	ck_assert_int_eq(rename(AT("d/member/wal/" WAL_NAME), AT("elsewhere.wal")), 0);
	ck_assert_int_eq(symlink(AT("elsewhere.wal"), AT("d/member/wal/" WAL_NAME)), 0);
	ls = read_state();
	ck_assert_int_eq(ls.data.state, DATADIR_VALID);
	ck_assert_int_lt(ls.wal_seen.r, 0);
	ck_assert(ls.wal_unreadable);
	ck_assert(!state_tombstoned(&ls));
}
END_TEST

START_TEST(test_read_symlink)
{
	struct local_state ls;

	make_dir("target");
	ck_assert_int_eq(symlink(AT("target"), AT("d")), 0);
	ls = read_state();
	ck_assert(ls.is_link && !ls.link_dangling);
	ck_assert_str_eq(ls.link_target, AT("target"));

	ck_assert_int_eq(rmdir(AT("target")), 0);
	ls = read_state();
	ck_assert(ls.is_link && ls.link_dangling);
	ck_assert_str_eq(ls.link_target, AT("target"));
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

	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_test(tc, test_read_nothing);
	tcase_add_test(tc, test_read_member);
	tcase_add_loop_test(tc, test_read_tombstone, 0, sizeof(tombstones) / sizeof(tombstones[0]));
	tcase_add_test(tc, test_read_garbage_files);
	tcase_add_test(tc, test_read_bad_wal);
	tcase_add_test(tc, test_read_symlink);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testdir_run("state", state_suite());
}
