/* Unit tests of common/datadir: the offline inspection of data dirs built in temp dirs, the
 * WAL lock probe against our own OFD lock and against a REAL running etcd (ETCD_BIN, set by
 * meson; a missing binary fails the test), and whether a data dir is on a volume. */
#include "testmember.h"
#include "testetcd.h"
#include "datadir.h"

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

START_TEST(test_missing)
{
	struct datadir_info info = inspect("nope");

	ck_assert_int_eq(info.state, DATADIR_EMPTY);
	ck_assert_uint_eq(info.n_wal, 0);
	ck_assert(!info.has_db);
	ck_assert_int_eq(access(AT("nope"), F_OK), -1); /* nothing was created */
}
END_TEST

START_TEST(test_empty_dir)
{
	make_dir("d");
	ck_assert_int_eq(inspect("d").state, DATADIR_EMPTY);
}
END_TEST

START_TEST(test_file_not_dir)
{
	make_file("d", "x");
	ck_assert_int_eq(inspect("d").state, DATADIR_PARTIAL);
}
END_TEST

START_TEST(test_partial)
{
	struct datadir_info info;

	make_dir("d");
	make_dir("d/member");
	ck_assert_int_eq(inspect("d").state, DATADIR_PARTIAL);

	make_dir("d/member/snap");
	make_file("d/member/snap/db", "bbolt");
	info = inspect("d");
	ck_assert_int_eq(info.state, DATADIR_PARTIAL); /* a db without WAL */
	ck_assert(info.has_db);
	ck_assert_uint_eq(info.n_wal, 0);
}
END_TEST

START_TEST(test_partial_empty_db)
{
	struct datadir_info info;

	make_member("wal", "");
	info = inspect("d");
	ck_assert_int_eq(info.state, DATADIR_PARTIAL);
	ck_assert_uint_eq(info.n_wal, 1);
	ck_assert(!info.has_db);
}
END_TEST

START_TEST(test_partial_no_db)
{
	make_member("wal", NULL);
	ck_assert_int_eq(inspect("d").state, DATADIR_PARTIAL);
}
END_TEST

/* Readable but wrong: a file where etcd has a directory is partial data, not an I/O error. */
START_TEST(test_partial_file_for_dir)
{
	make_dir("d");
	make_file("d/member", "not a directory");
	ck_assert_int_eq(inspect("d").state, DATADIR_PARTIAL);
	remove(AT("d/member"));
	make_dir("d/member");
	make_file("d/member/wal", "not a directory");
	ck_assert_int_eq(inspect("d").state, DATADIR_PARTIAL);
}
END_TEST

START_TEST(test_partial_other_files)
{
	make_dir("d");
	make_file("d/notes.txt", "not etcd's");
	ck_assert_int_eq(inspect("d").state, DATADIR_PARTIAL);
}
END_TEST

START_TEST(test_valid)
{
	struct datadir_info info;

	make_member("wal", "bbolt");
	info = inspect("d");
	ck_assert_int_eq(info.state, DATADIR_VALID);
	ck_assert_uint_eq(info.n_wal, 1);
	ck_assert(info.has_db);
	make_file("d/member/wal/0000000000000001-0000000000000010.wal", "wal");
	make_file("d/member/wal/0.tmp", "preallocated");
	info = inspect("d");
	ck_assert_int_eq(info.state, DATADIR_VALID);
	ck_assert_uint_eq(info.n_wal, 2);
}
END_TEST

/* Only a WAL whose bytes are not a WAL makes the data partial; an error reading it says
 * nothing about the data, and leaves the state as it was. */
START_TEST(test_wal_unreadable)
{
	static const int no_verdict[] = {-EIO, -EACCES, -ELOOP, -ENOMEM, -ENOENT, -EAGAIN};
	struct datadir_info info;

	make_member("wal", "bbolt");
	for (size_t i = 0; i < sizeof(no_verdict) / sizeof(no_verdict[0]); i++) {
		info = inspect("d");
		ck_assert(!datadir_wal_unreadable(&info, no_verdict[i], "why"));
		ck_assert_int_eq(info.state, DATADIR_VALID);
	}
	info = inspect("d");
	ck_assert(datadir_wal_unreadable(&info, -EBADMSG, "garbage"));
	ck_assert_int_eq(info.state, DATADIR_PARTIAL);
	ck_assert_str_eq(info.reason, "the WAL's metadata is unreadable: garbage");
	info = inspect("d");
	ck_assert(datadir_wal_unreadable(&info, -ENODATA, "cut short"));
	ck_assert_int_eq(info.state, DATADIR_PARTIAL);
	/* another state is left as it is */
	info.state = DATADIR_IN_USE;
	ck_assert(datadir_wal_unreadable(&info, -EBADMSG, "garbage"));
	ck_assert_int_eq(info.state, DATADIR_IN_USE);
}
END_TEST

/* Our own OFD write lock, taken through a second open file description, is seen. */
START_TEST(test_file_locked_ofd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd;

	make_member("wal", "bbolt");
	fd = open(AT("d/member/wal/" WAL_NAME), O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(datadir_file_locked(AT("d/member/wal/" WAL_NAME)), 0);
	ck_assert_int_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
	ck_assert_int_eq(datadir_file_locked(AT("d/member/wal/" WAL_NAME)), 1);
	ck_assert_int_eq(inspect("d").state, DATADIR_IN_USE);
	/* the probe took no lock of its own: ours is still the only one */
	fl.l_type = F_UNLCK;
	ck_assert_int_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
	ck_assert_int_eq(datadir_file_locked(AT("d/member/wal/" WAL_NAME)), 0);
	ck_assert_int_eq(inspect("d").state, DATADIR_VALID);
	close(fd);
}
END_TEST

START_TEST(test_file_locked_read_lock)
{
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	int fd;

	make_file("f", "x");
	fd = open(AT("f"), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
	ck_assert_int_eq(datadir_file_locked(AT("f")), 1);
	close(fd);
	ck_assert_int_eq(datadir_file_locked(AT("f")), 0);
}
END_TEST

START_TEST(test_file_locked_missing)
{
	ck_assert_int_eq(datadir_file_locked(AT("nope")), -ENOENT);
}
END_TEST

START_TEST(test_state_names)
{
	ck_assert_str_eq(datadir_state_name(DATADIR_EMPTY), "empty");
	ck_assert_str_eq(datadir_state_name(DATADIR_VALID), "valid");
	ck_assert_str_eq(datadir_state_name(DATADIR_PARTIAL), "partial");
	ck_assert_str_eq(datadir_state_name(DATADIR_IN_USE), "in use");
}
END_TEST
/* A mount table (mountinfo's format) with "/" and the given mount points of tmp. */
static void fake_mountinfo(const char *const *points)
{
	FILE *f = fopen(AT("mountinfo"), "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "21 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n");
	for (size_t i = 0; points[i]; i++)
		fprintf(f, "%zu 21 0:%zu / %s/%s rw,nosuid - tmpfs tmpfs rw\n", 30 + i, 40 + i, tmp,
		        points[i]);
	ck_assert_int_eq(fclose(f), 0);
}

static int check_volume(const char *rel, struct error *err)
{
	char path[4096];

	error_clear(err);
	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	return datadir_check_volume(path, AT("mountinfo"), err);
}

/* The data dir on a volume, with its helper folder: a folder in a mounted volume is fine
 * (existing or not, however deep); the volume's mount point itself, and a folder on the root
 * file system, are refused with what to fix. Mount points with escaped spaces count. */
START_TEST(test_check_volume)
{
	static const char *const points[] = {"vol", "with\\040space", NULL};
	struct error err;

	make_dir("vol");
	make_dir("vol/default.etcd");
	make_dir("with space");
	make_dir("other");
	fake_mountinfo(points);
	ck_assert_int_eq(check_volume("vol/default.etcd", &err), 0);
	ck_assert_int_eq(check_volume("vol/not-yet.etcd", &err), 0);
	ck_assert_int_eq(check_volume("vol/a/b/c/default.etcd", &err), 0);
	ck_assert_int_eq(check_volume("with space/default.etcd", &err), 0);
	ck_assert_int_eq(check_volume("vol", &err), -EXDEV);
	ck_assert_ptr_nonnull(strstr(err.msg, "mount point"));
	ck_assert_ptr_nonnull(strstr(err.msg, "ETCD_DATA_DIR"));
	ck_assert_int_eq(check_volume("vol/", &err), -EXDEV);
	ck_assert_int_eq(check_volume("with space", &err), -EXDEV);
	ck_assert_int_eq(check_volume("other/default.etcd", &err), -ENXIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "not on a volume"));
	ck_assert_int_eq(check_volume("missing/default.etcd", &err), -ENXIO);
	/* "vol" as a prefix of a name is not its folder */
	make_dir("volume2");
	ck_assert_int_eq(check_volume("volume2/default.etcd", &err), -ENXIO);
	/* a symlink on the root into the volume: its helper folder would be on the root */
	ck_assert_int_eq(symlink(AT("vol/default.etcd"), AT("other/link.etcd")), 0);
	ck_assert_int_eq(check_volume("other/link.etcd", &err), -ENXIO);
	/* no mount table: an error, not a pass */
	error_clear(&err);
	ck_assert_int_lt(datadir_check_volume(AT("vol/default.etcd"), AT("no-such-file"), &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "mount table"));
}
END_TEST

/* ---- a real etcd ---- */

START_TEST(test_real_etcd)
{
	const char *bin = test_etcd_bin();
	char wal[4096];
	struct datadir_info info;
	struct test_etcd e;

	start_etcd(bin, &e, NULL);
	at(wal, sizeof(wal), "d/member/wal/" WAL_NAME);
	info = inspect("d");
	ck_assert_msg(info.state == DATADIR_IN_USE, "a running etcd's data dir is '%s': %s",
	              datadir_state_name(info.state), info.reason);
	ck_assert_int_eq(datadir_file_locked(wal), 1);

	stop_etcd(&e);
	info = inspect("d");
	ck_assert_msg(info.state == DATADIR_VALID, "a stopped etcd's data dir is '%s': %s",
	              datadir_state_name(info.state), info.reason);
	ck_assert_uint_ge(info.n_wal, 1);
	ck_assert(info.has_db);
	ck_assert_int_eq(datadir_file_locked(wal), 0);
}
END_TEST

static Suite *datadir_suite(void)
{
	Suite *s = suite_create("datadir");
	TCase *tc = tcase_create("inspect");

	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_empty_dir);
	tcase_add_test(tc, test_file_not_dir);
	tcase_add_test(tc, test_partial);
	tcase_add_test(tc, test_partial_empty_db);
	tcase_add_test(tc, test_partial_no_db);
	tcase_add_test(tc, test_partial_file_for_dir);
	tcase_add_test(tc, test_partial_other_files);
	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_wal_unreadable);
	tcase_add_test(tc, test_file_locked_ofd);
	tcase_add_test(tc, test_file_locked_read_lock);
	tcase_add_test(tc, test_file_locked_missing);
	tcase_add_test(tc, test_state_names);
	tcase_add_test(tc, test_check_volume);
	suite_add_tcase(s, tc);

	/* meson's `etcd` suite runs this case alone (CK_INCLUDE_TAGS=etcd), `unit` the others */
	tc = tcase_create("real_etcd");
	tcase_set_tags(tc, "etcd");
	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_real_etcd);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testdir_run("datadir", datadir_suite());
}
