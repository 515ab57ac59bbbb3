/* Unit tests of common/datadir: the offline inspection of data dirs built in temp dirs, the
 * WAL lock probe against our own OFD lock and against a REAL running etcd (ETCD_BIN, set by
 * meson; a missing binary fails the test), the helper folder's path and atomic writes, the
 * quarantine (the move, the reason, bounded retention that never follows a symlink, no
 * trace on failure) and the cluster marker. */
#include "testdir.h"
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

#define WAL_NAME "0000000000000000-0000000000000000.wal"

/* One temp dir for the run, made and removed by main() whatever the tests do, and one
 * fresh dir in it for each test. */

/* member/wal/<first segment> and member/snap/db, as etcd lays them out */
static void make_member(const char *wal_content, const char *db_content)
{
	make_dir("d");
	make_dir("d/member");
	make_dir("d/member/wal");
	make_dir("d/member/snap");
	if (wal_content)
		make_file("d/member/wal/" WAL_NAME, wal_content);
	if (db_content)
		make_file("d/member/snap/db", db_content);
}

static struct datadir_info inspect(const char *rel)
{
	struct datadir_info info;
	struct error err;

	error_clear(&err);
	ck_assert_msg(datadir_inspect(AT(rel), &info, &err) == 0, "%s: %s", rel, err.msg);
	ck_assert_msg(info.reason[0], "no reason given for %s", rel);
	return info;
}

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
	char *h = datadir_helper_dir(helpers[_i].data_dir);

	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(h, helpers[_i].helper);
	free(h);
}
END_TEST

/* The names in tmp/rel, sorted, joined by spaces. */
static void list_dir(const char *rel, char *buf, size_t size)
{
	struct dirent **names;
	int n = scandir(AT(rel), &names, NULL, alphasort);

	ck_assert_int_ge(n, 0);
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0)
			snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", buf[0] ? " " : "",
			         names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

static void assert_file(const char *rel, const char *content, mode_t mode)
{
	char buf[256] = {0};
	struct stat st;
	FILE *f;

	ck_assert_int_eq(stat(AT(rel), &st), 0);
	ck_assert_msg((st.st_mode & 07777) == mode, "%s has mode %o", rel, st.st_mode & 07777);
	f = fopen(AT(rel), "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_lt(fread(buf, 1, sizeof(buf) - 1, f), sizeof(buf) - 1);
	fclose(f);
	ck_assert_str_eq(buf, content);
}

START_TEST(test_write_atomic)
{
	struct error err;
	struct stat st;
	char names[256];

	error_clear(&err);
	/* the helper dir is created, 0700 */
	ck_assert_int_eq(datadir_write_atomic(AT("h"), "state", "first version\n", &err), 0);
	ck_assert_int_eq(stat(AT("h"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	assert_file("h/state", "first version\n", 0600);

	/* overwritten whole, by a shorter content */
	ck_assert_int_eq(datadir_write_atomic(AT("h"), "state", "v2\n", &err), 0);
	assert_file("h/state", "v2\n", 0600);

	/* a file of another mode is replaced by a 0600 one */
	make_file("h/other", "old");
	ck_assert_int_eq(chmod(AT("h/other"), 0644), 0);
	ck_assert_int_eq(datadir_write_atomic(AT("h"), "other", "", &err), 0);
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
	ck_assert_int_lt(datadir_write_atomic(AT("f"), "state", "x", &err), 0);
	ck_assert(err.msg[0]);
	ck_assert_int_lt(datadir_write_atomic(AT("no/such/parent"), "state", "x", &err), 0);
}
END_TEST

/* ---- quarantine and the cluster marker ---- */

#define QDIR ".etcd-hooks/quarantine"

/* The whole content of the file at an absolute path equals content. */
static void assert_content(const char *path, const char *content)
{
	char buf[1024] = {0};
	FILE *f = fopen(path, "r");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_uint_lt(fread(buf, 1, sizeof(buf) - 1, f), sizeof(buf) - 1);
	fclose(f);
	ck_assert_msg(strcmp(buf, content) == 0, "%s holds '%s', not '%s'", path, buf, content);
}

static char **qlist(void)
{
	struct error err;
	char **v = NULL;
	int r;

	error_clear(&err);
	r = datadir_quarantine_list(AT("d"), &v, &err);
	ck_assert_msg(r == 0, "quarantine list: %d: %s", r, err.msg);
	ck_assert_ptr_nonnull(v);
	return v;
}

static size_t qcount(char **v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Quarantine tmp/d; returns the new path (malloc'd). */
static char *quarantine(const char *tag, const char *reason, unsigned keep)
{
	struct error err;
	char *path = NULL;
	int r;

	error_clear(&err);
	r = datadir_quarantine(AT("d"), tag, reason, keep, NULL, NULL, &path, &err);
	ck_assert_msg(r == 0, "quarantine: %d: %s", r, err.msg);
	ck_assert_ptr_nonnull(path);
	return path;
}

/* The clock datadir stamps entries with. Not time(NULL): that may read a coarser clock,
 * which lags this one by up to a tick and so can still say the previous second. */
static struct timespec wall_now(void)
{
	struct timespec ts;

	ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return ts;
}

static bool ts_le(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

/* "<stamp>-<tag>" with stamp = YYYYmmddTHHMMSS.nnnnnnnnnZ, UTC, between the clock readings
 * taken before and after the quarantine that made it (the first entry of its name: a
 * collision would add nanoseconds). */
static void assert_entry_name(const char *name, const char *tag, struct timespec before,
                              struct timespec after)
{
	struct tm tm = {0};
	const char *end = strptime(name, "%Y%m%dT%H%M%S", &tm);
	struct timespec t;

	ck_assert_msg(end && end - name == 15 && end[0] == '.' &&
	                      strspn(end + 1, "0123456789") == 9 && end[10] == 'Z',
	              "'%s' does not start with a UTC stamp", name);
	t.tv_sec = timegm(&tm);
	t.tv_nsec = strtol(end + 1, NULL, 10);
	end += 11;
	ck_assert_msg(end[0] == '-' && strncmp(end + 1, tag, strlen(tag)) == 0,
	              "'%s' does not carry the tag '%s'", name, tag);
	ck_assert_msg(ts_le(before, t) && ts_le(t, after),
	              "the stamp of '%s' is not between %lld.%09ld and %lld.%09ld (UTC)", name,
	              (long long)before.tv_sec, before.tv_nsec, (long long)after.tv_sec,
	              after.tv_nsec);
}

/* A helper or quarantine folder that is a symlink is never worked through: nothing is
 * written, moved or deleted in its target, and the data dir stays where it is. */
START_TEST(test_quarantine_symlinked_folders)
{
	struct error err;
	struct stat st;
	char **v = NULL;

	make_dir("victim");
	make_dir("victim/a");
	make_file("victim/a/keep", "x");
	make_dir("d");
	make_file("d/f", "data");
	/* the quarantine folder points outside the volume */
	make_dir(".etcd-hooks");
	ck_assert_int_eq(symlink(AT("victim"), AT(".etcd-hooks/quarantine")), 0);
	error_clear(&err);
	ck_assert_int_eq(datadir_quarantine(AT("d"), "t", "why", 1, NULL, NULL, NULL, &err),
	                 -ELOOP);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a directory"));
	ck_assert_int_eq(stat(AT("d/f"), &st), 0);
	ck_assert_int_eq(stat(AT("victim/a/keep"), &st), 0);
	error_clear(&err);
	ck_assert_int_lt(datadir_quarantine_list(AT("d"), &v, &err), 0);
	/* the helper folder itself points outside */
	ck_assert_int_eq(unlink(AT(".etcd-hooks/quarantine")), 0);
	ck_assert_int_eq(rmdir(AT(".etcd-hooks")), 0);
	ck_assert_int_eq(symlink(AT("victim"), AT(".etcd-hooks")), 0);
	error_clear(&err);
	ck_assert_int_eq(datadir_quarantine(AT("d"), "t", "why", 1, NULL, NULL, NULL, &err),
	                 -ELOOP);
	ck_assert_int_eq(datadir_write_atomic(AT(".etcd-hooks"), "x", "y", &err), -ELOOP);
	ck_assert_int_eq(datadir_tombstone_clear(AT("d"), &err), -ELOOP);
	ck_assert_int_eq(stat(AT("d/f"), &st), 0);
	ck_assert_int_ne(stat(AT("victim/x"), &st), 0);
	ck_assert_int_ne(stat(AT("victim/quarantine"), &st), 0);
}
END_TEST

START_TEST(test_quarantine_moves)
{
	char want[4096], file[4096], *path, **v;
	struct timespec before, after;
	struct stat st;

	make_member("wal-content", "db-content");
	make_file("d/member/snap/0000000000000002-0000000000000005.snap", "snap");
	before = wall_now();
	path = quarantine("partial", "the data dir holds partial data", 3);
	after = wall_now();

	/* <parent>/.etcd-hooks/quarantine/<stamp>-<tag>/<basename> */
	v = qlist();
	ck_assert_uint_eq(qcount(v), 1);
	assert_entry_name(v[0], "partial", before, after);
	snprintf(want, sizeof(want), "%s/" QDIR "/%s/d", tmp, v[0]);
	ck_assert_str_eq(path, want);

	/* the original path is gone; the content moved whole */
	ck_assert_int_eq(lstat(AT("d"), &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	snprintf(file, sizeof(file), "%s/member/wal/" WAL_NAME, path);
	assert_content(file, "wal-content");
	snprintf(file, sizeof(file), "%s/member/snap/db", path);
	assert_content(file, "db-content");
	snprintf(file, sizeof(file), "%s/member/snap/0000000000000002-0000000000000005.snap", path);
	assert_content(file, "snap");

	/* the reason beside it, 0600 */
	snprintf(file, sizeof(file), "%s/" QDIR "/%s/reason", tmp, v[0]);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	{
		char buf[1024] = {0};
		FILE *f = fopen(file, "r");

		ck_assert_ptr_nonnull(f);
		ck_assert_uint_gt(fread(buf, 1, sizeof(buf) - 1, f), 0);
		fclose(f);
		ck_assert_msg(strstr(buf, "the data dir holds partial data"),
		              "the reason file says '%s'", buf);
	}
	/* the entry holds the data dir and the reason, nothing else */
	{
		char names[256], rel[256];

		snprintf(rel, sizeof(rel), QDIR "/%s", v[0]);
		list_dir(rel, names, sizeof(names));
		ck_assert_str_eq(names, "d reason");
	}
	free(path);
	free_strv(v);

	/* a NULL ret_path is fine */
	make_member("wal", "db");
	ck_assert_int_eq(datadir_quarantine(AT("d"), "t", "r", 3, NULL, NULL, NULL, NULL), 0);
	v = qlist();
	ck_assert_uint_eq(qcount(v), 2);
	free_strv(v);
}
END_TEST

/* The data dirs left in the quarantine, by the content of their db, oldest name first,
 * joined by spaces ("g2 g3"). */
static void quarantined_generations(char *buf, size_t size)
{
	char **v = qlist();

	buf[0] = '\0';
	for (size_t i = 0; v[i]; i++) {
		char path[4096], content[64] = {0};
		FILE *f;

		snprintf(path, sizeof(path), "%s/" QDIR "/%s/d/member/snap/db", tmp, v[i]);
		f = fopen(path, "r");
		ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
		ck_assert_uint_gt(fread(content, 1, sizeof(content) - 1, f), 0);
		fclose(f);
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? " " : "", content);
	}
	free_strv(v);
}

/* keep=2: after 4 moves 2 entries remain, the newest being the last move; after a 5th, the 2
 * newest generations. (The moves take milliseconds, so they mostly share one stamp and the
 * entries differ by their ".n" suffix.) */
START_TEST(test_quarantine_retention)
{
	char left[256], *path = NULL;

	for (int i = 0; i < 5; i++) {
		char db[16], want[64];

		snprintf(db, sizeof(db), "g%d", i);
		make_member("wal", db);
		free(path);
		path = quarantine("stale", db, 2);
		quarantined_generations(left, sizeof(left));
		if (i == 0)
			snprintf(want, sizeof(want), "g0");
		else
			snprintf(want, sizeof(want), "g%d g%d", i - 1, i);
		ck_assert_msg(strcmp(left, want) == 0,
		              "keep=2, after move %d: the quarantine holds '%s', not '%s'", i + 1,
		              left, want);
	}
	ck_assert_int_eq(access(path, F_OK), 0);
	free(path);
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

struct pruned {
	unsigned n;
	char entries[8][256];
	char held[8][256];
};

static void on_prune(const char *entry, const char *held, void *ctx)
{
	struct pruned *p = ctx;

	ck_assert_uint_lt(p->n, 8);
	snprintf(p->entries[p->n], sizeof(p->entries[0]), "%s", entry);
	snprintf(p->held[p->n], sizeof(p->held[0]), "%s", held);
	p->n++;
}

static char *quarantine_logged(const char *tag, unsigned keep, struct pruned *p)
{
	struct error err;
	char *path = NULL;
	int r;

	error_clear(&err);
	r = datadir_quarantine(AT("d"), tag, tag, keep, on_prune, p, &path, &err);
	ck_assert_msg(r == 0, "quarantine: %d: %s", r, err.msg);
	return path;
}

/* Partial skeletons (etcd 3.4 creates member/snap/db before it refuses a bad start) never push
 * an entry holding member data out: they go first, and the member data stays however many
 * follow. Every deletion is reported with what it held. */
START_TEST(test_quarantine_partial_never_pushes_valid)
{
	struct pruned p = {0};
	char left[256], *path;

	make_member("wal", "real");
	free(quarantine_logged("removed", 2, &p));
	for (int i = 0; i < 4; i++) {
		char db[16];

		snprintf(db, sizeof(db), "skel%d", i);
		make_member(NULL, db);
		path = quarantine_logged("partial", 2, &p);
		ck_assert_int_eq(access(path, F_OK), 0);
		free(path);
		quarantined_generations(left, sizeof(left));
		ck_assert_msg(strncmp(left, "real ", 5) == 0,
		              "after skeleton %d the quarantine holds '%s'", i, left);
	}
	quarantined_generations(left, sizeof(left));
	ck_assert_str_eq(left, "real skel3");
	ck_assert_uint_eq(p.n, 3);
	for (unsigned i = 0; i < p.n; i++) {
		ck_assert_msg(strstr(p.entries[i], "-partial"), "deleted '%s'", p.entries[i]);
		ck_assert_msg(strstr(p.held[i], "partial data"), "it held '%s'", p.held[i]);
	}

	/* keep=1: the member data is not deleted to make room for a skeleton */
	make_member(NULL, "skel4");
	free(quarantine_logged("partial", 1, &p));
	quarantined_generations(left, sizeof(left));
	ck_assert_str_eq(left, "real skel4");
}
END_TEST

/* Member data is deleted only while more than `keep` copies remain, the oldest first, never
 * the newest; the report says it held member data. */
START_TEST(test_quarantine_member_data_retention)
{
	struct pruned p = {0};
	char left[256];

	make_member("wal", "m1");
	free(quarantine_logged("removed", 2, &p));
	make_member(NULL, "skel");
	free(quarantine_logged("partial", 2, &p));
	make_member("wal", "m2");
	free(quarantine_logged("removed", 2, &p));
	/* 3 entries, 2 of them member data: the skeleton goes */
	quarantined_generations(left, sizeof(left));
	ck_assert_str_eq(left, "m1 m2");
	ck_assert_uint_eq(p.n, 1);
	make_member("wal", "m3");
	free(quarantine_logged("removed", 2, &p));
	quarantined_generations(left, sizeof(left));
	ck_assert_str_eq(left, "m2 m3");
	ck_assert_uint_eq(p.n, 2);
	ck_assert_msg(strstr(p.held[1], "member data"), "it held '%s'", p.held[1]);
}
END_TEST

/* Partial data that is not a skeleton, a WAL without a db or a db of 1 MiB without a WAL,
 * counts as member data: skeletons never push it out. */
START_TEST(test_quarantine_partial_member_data_kept)
{
	struct pruned p = {0};
	char **v, big[DATADIR_PRECIOUS_DB_BYTES + 1];
	size_t n;

	make_member("wal", NULL);
	free(quarantine_logged("partial", 2, &p));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	make_member(NULL, big);
	free(quarantine_logged("partial", 2, &p));
	for (int i = 0; i < 3; i++) {
		make_member(NULL, "skeleton");
		free(quarantine_logged("partial", 2, &p));
	}
	v = qlist();
	for (n = 0; v[n]; n++)
		;
	/* the WAL-only entry, the big db and the newest skeleton: two skeletons went */
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(p.n, 2);
	for (unsigned i = 0; i < p.n; i++)
		ck_assert_msg(strstr(p.held[i], "partial data"), "it held '%s'", p.held[i]);
	{
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/" QDIR "/%s/d/member/wal/" WAL_NAME, tmp, v[0]);
		ck_assert_msg(stat(path, &st) == 0, "the WAL-only entry is gone: %s", path);
		snprintf(path, sizeof(path), "%s/" QDIR "/%s/d/member/snap/db", tmp, v[1]);
		ck_assert_msg(stat(path, &st) == 0 && st.st_size == DATADIR_PRECIOUS_DB_BYTES,
		              "the big db entry is gone: %s", path);
	}
	free_strv(v);
	/* and they go, as member data, once more than `keep` copies of it remain */
	make_member("wal", "m");
	free(quarantine_logged("removed", 2, &p));
	ck_assert_msg(strstr(p.held[p.n - 1], "partial member data"), "it held '%s'",
	              p.held[p.n - 1]);
}
END_TEST

/* keep 0 leaves the retention to the caller; datadir_quarantine_prune() applies it later as
 * if the newest entry were new: member data beyond `keep` goes, oldest first; the newest
 * entry stays, even a skeleton; nothing happens without a quarantine or with keep 0. */
START_TEST(test_quarantine_prune_later)
{
	struct pruned p = {0};
	char left[256];

	datadir_quarantine_prune(AT("d"), 2, on_prune, &p);
	ck_assert_uint_eq(p.n, 0);
	for (int i = 1; i <= 4; i++) {
		char gen[16];

		snprintf(gen, sizeof(gen), "m%d", i);
		make_member("wal", gen);
		free(quarantine_logged("left", 0, &p));
	}
	quarantined_generations(left, sizeof(left));
	ck_assert_str_eq(left, "m1 m2 m3 m4");
	ck_assert_uint_eq(p.n, 0);
	datadir_quarantine_prune(AT("d"), 0, on_prune, &p);
	ck_assert_uint_eq(p.n, 0);
	datadir_quarantine_prune(AT("d"), 2, on_prune, &p);
	quarantined_generations(left, sizeof(left));
	ck_assert_str_eq(left, "m3 m4");
	ck_assert_uint_eq(p.n, 2);
	ck_assert_msg(strstr(p.held[0], "member data"), "it held '%s'", p.held[0]);
	/* a skeleton newest: it stays, and so do the two member data copies */
	make_member(NULL, "skel");
	free(quarantine_logged("partial", 0, &p));
	datadir_quarantine_prune(AT("d"), 2, on_prune, &p);
	quarantined_generations(left, sizeof(left));
	ck_assert_str_eq(left, "m3 m4 skel");
	ck_assert_uint_eq(p.n, 2);
	/* again: nothing more goes */
	datadir_quarantine_prune(AT("d"), 2, on_prune, &p);
	ck_assert_uint_eq(p.n, 2);
}
END_TEST

/* Removing an old entry never follows a symlink: links inside it (to a file, to a directory,
 * to the volume itself) and an entry that is itself a link go as links; their targets outside
 * survive. The old entries are made by hand with old stamps, so they are the oldest. */
START_TEST(test_quarantine_retention_symlinks)
{
	char *newer, **v;
	struct stat st;

	make_file("outside.txt", "precious");
	make_dir("outside-dir");
	make_file("outside-dir/keep.txt", "also precious");
	make_dir(".etcd-hooks");
	make_dir(QDIR);
	ck_assert_int_eq(symlink(AT("outside-dir"), AT(QDIR "/19990101T000000Z-link")), 0);
	make_dir(QDIR "/20000101T000000Z-old");
	make_file(QDIR "/20000101T000000Z-old/reason", "old");
	make_dir(QDIR "/20000101T000000Z-old/d");
	make_dir(QDIR "/20000101T000000Z-old/d/member");
	ck_assert_int_eq(symlink(AT("outside.txt"), AT(QDIR "/20000101T000000Z-old/d/member/db")),
	                 0);
	ck_assert_int_eq(symlink(AT("outside-dir"), AT(QDIR "/20000101T000000Z-old/d/to-dir")), 0);
	ck_assert_int_eq(symlink(tmp, AT(QDIR "/20000101T000000Z-old/to-volume")), 0);

	make_member("wal", "new");
	newer = quarantine("new", "new", 1);
	v = qlist();
	ck_assert_uint_eq(qcount(v), 1);
	ck_assert_ptr_nonnull(strstr(newer, v[0]));
	ck_assert_int_eq(lstat(AT(QDIR "/20000101T000000Z-old"), &st), -1);
	ck_assert_int_eq(lstat(AT(QDIR "/19990101T000000Z-link"), &st), -1);

	assert_content(AT("outside.txt"), "precious");
	assert_content(AT("outside-dir/keep.txt"), "also precious");
	free(newer);
	free_strv(v);
}
END_TEST

/* "Keep at most `keep` entries" holds even when the new entry does not sort last (names from
 * a clock that was ahead, e.g. another node's, before the volume moved). */
START_TEST(test_quarantine_retention_bound)
{
	char *path, **v;

	make_dir(".etcd-hooks");
	make_dir(QDIR);
	make_dir(QDIR "/29990101T000000Z-ahead");
	make_dir(QDIR "/29990102T000000Z-ahead");
	make_dir(QDIR "/29990103T000000Z-ahead");
	make_member("wal", "db");
	path = quarantine("now", "r", 2);
	v = qlist();
	{
		char names[512] = {0};

		for (size_t i = 0; v[i]; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), " %s", v[i]);
		ck_assert_msg(qcount(v) == 2, "keep=2 but %zu entries remain:%s", qcount(v), names);
	}
	ck_assert_int_eq(access(path, F_OK), 0); /* the one just made stays */
	free(path);
	free_strv(v);
}
END_TEST

/* A data dir given with a trailing slash (ETCD_DATA_DIR=/var/run/etcd/default.etcd/ passes
 * the settings' checks, and datadir_helper_dir() accepts it) is moved like without. */
START_TEST(test_quarantine_trailing_slash)
{
	char want_end[64], *path = NULL;
	struct error err;
	int r;

	make_member("wal", "db");
	error_clear(&err);
	r = datadir_quarantine(AT("d/"), "partial", "r", 3, NULL, NULL, &path, &err);
	ck_assert_msg(r == 0, "'%s': %d: %s", AT("d/"), r, err.msg);
	snprintf(want_end, sizeof(want_end), "-partial/d");
	ck_assert_msg(strlen(path) > strlen(want_end) &&
	                      strcmp(path + strlen(path) - strlen(want_end), want_end) == 0,
	              "moved to '%s'", path);
	ck_assert_int_eq(access(AT("d"), F_OK), -1);
	free(path);
}
END_TEST

/* A data dir that is not there: an error naming it, and no entry left behind. */
START_TEST(test_quarantine_missing)
{
	char names[256], *path = NULL, **v;
	struct timespec before, after;
	struct error err;
	int r;

	error_clear(&err);
	r = datadir_quarantine(AT("d"), "partial", "r", 3, NULL, NULL, &path, &err);
	ck_assert_int_lt(r, 0);
	ck_assert_int_eq(err.code, r);
	ck_assert_ptr_null(path);
	ck_assert_msg(strstr(err.msg, AT("d")), "the message '%s' does not name the data dir",
	              err.msg);
	v = qlist();
	ck_assert_uint_eq(qcount(v), 0);
	free_strv(v);
	if (access(AT(QDIR), F_OK) == 0) {
		list_dir(QDIR, names, sizeof(names));
		ck_assert_msg(names[0] == '\0', "left in the quarantine: '%s'", names);
	}

	/* the same with an entry already there: it stays, nothing is added */
	make_member("wal", "db");
	before = wall_now();
	free(quarantine("first", "r", 3));
	after = wall_now();
	error_clear(&err);
	ck_assert_int_lt(datadir_quarantine(AT("d"), "second", "r", 3, NULL, NULL, NULL, &err), 0);
	v = qlist();
	ck_assert_uint_eq(qcount(v), 1);
	assert_entry_name(v[0], "first", before, after);
	free_strv(v);
}
END_TEST

START_TEST(test_quarantine_list)
{
	char **v;

	/* no helper folder, then an empty quarantine folder */
	v = qlist();
	ck_assert_uint_eq(qcount(v), 0);
	free_strv(v);
	make_dir(".etcd-hooks");
	make_dir(QDIR);
	v = qlist();
	ck_assert_uint_eq(qcount(v), 0);
	free_strv(v);

	/* sorted by name (= by time), hidden names left out */
	make_dir(QDIR "/20240301T000000Z-partial");
	make_dir(QDIR "/20240101T120000Z-removed");
	make_dir(QDIR "/.20240201T000000Z-hidden");
	make_dir(QDIR "/20240201T000000Z-removed");
	make_dir(QDIR "/20240101T120000Z-removed.1");
	v = qlist();
	ck_assert_uint_eq(qcount(v), 4);
	ck_assert_str_eq(v[0], "20240101T120000Z-removed");
	ck_assert_str_eq(v[1], "20240101T120000Z-removed.1");
	ck_assert_str_eq(v[2], "20240201T000000Z-removed");
	ck_assert_str_eq(v[3], "20240301T000000Z-partial");
	free_strv(v);
}
END_TEST

static void marker_round_trip(uint64_t cluster, uint64_t member)
{
	uint64_t c = 0, m = 0;
	struct error err;
	int r;

	error_clear(&err);
	r = datadir_marker_write(AT("d"), cluster, member, &err);
	ck_assert_msg(r == 0, "%d: %s", r, err.msg);
	r = datadir_marker_read(AT("d"), &c, &m, &err);
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
	ck_assert_int_eq(datadir_marker_read(AT("d"), &c, &m, &err), -ENOENT);
	make_dir(".etcd-hooks");
	ck_assert_int_eq(datadir_marker_read(AT("d"), &c, &m, &err), -ENOENT);
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
	r = datadir_marker_read(AT("d"), &c, &m, &err);
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
	struct datadir_tombstone t = {.member_id = member,
	                              .cluster_id = cluster,
	                              .removed = removed},
	                         got = {0};
	struct error err;
	int r;

	error_clear(&err);
	r = datadir_tombstone_write(AT("d"), &t, &err);
	ck_assert_msg(r == 0, "%d: %s", r, err.msg);
	r = datadir_tombstone_read(AT("d"), &got, &err);
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
	struct datadir_tombstone t = {.member_id = 7, .cluster_id = 8};
	struct error err;

	error_clear(&err);
	ck_assert_int_eq(datadir_tombstone_read(AT("d"), &t, &err), -ENOENT);
	make_dir(".etcd-hooks");
	ck_assert_int_eq(datadir_tombstone_read(AT("d"), &t, &err), -ENOENT);
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
	struct datadir_tombstone t = {.member_id = 7, .cluster_id = 8};
	struct error err;
	int r;

	make_dir(".etcd-hooks");
	make_file(".etcd-hooks/tombstone", bad_tombstones[_i]);
	error_clear(&err);
	r = datadir_tombstone_read(AT("d"), &t, &err);
	ck_assert_msg(r == -EBADMSG, "tombstone '%s' gives %d", bad_tombstones[_i], r);
	ck_assert_int_eq(err.code, -EBADMSG);
	ck_assert_msg(err.msg[0], "no message");
	ck_assert_uint_eq(t.member_id, 7);
	ck_assert_uint_eq(t.cluster_id, 8);
}
END_TEST

START_TEST(test_tombstone_clear)
{
	struct datadir_tombstone t = {.member_id = 5, .cluster_id = 6, .removed = true};
	struct error err;

	error_clear(&err);
	/* none at all (not even a helper folder): fine */
	ck_assert_int_eq(datadir_tombstone_clear(AT("d"), &err), 0);
	ck_assert_int_eq(datadir_tombstone_write(AT("d"), &t, &err), 0);
	make_file(".etcd-hooks/cluster", "cluster_id=6\nmember_id=5\n");
	ck_assert_int_eq(datadir_tombstone_clear(AT("d"), &err), 0);
	ck_assert_int_eq(datadir_tombstone_read(AT("d"), &t, &err), -ENOENT);
	ck_assert_int_eq(access(AT(".etcd-hooks/tombstone"), F_OK), -1);
	/* only the tombstone goes */
	ck_assert_int_eq(access(AT(".etcd-hooks/cluster"), F_OK), 0);
	ck_assert_int_eq(datadir_tombstone_clear(AT("d"), &err), 0);
}
END_TEST

/* ---- tree walks ---- */

struct visits {
	char names[4096]; /* the visited paths relative to tmp, in order, space-separated */
	size_t files, dirs, links;
};

static void record_visit(const char *path, const struct stat *st, void *ctx)
{
	struct visits *v = ctx;
	size_t n = strlen(tmp);
	const char *rel = strncmp(path, tmp, n) == 0 && path[n] == '/' ? path + n + 1 : path;

	snprintf(v->names + strlen(v->names), sizeof(v->names) - strlen(v->names), "%s%s",
	         v->names[0] ? " " : "", rel);
	if (S_ISDIR(st->st_mode))
		v->dirs++;
	else if (S_ISLNK(st->st_mode))
		v->links++;
	else
		v->files++;
}

/* Position of the word w in the space-separated list s (-1 when absent). */
static int word_at(const char *s, const char *w)
{
	size_t n = strlen(w);
	int i = 0;

	for (const char *p = s; *p; i++) {
		size_t k = strcspn(p, " ");

		if (k == n && strncmp(p, w, n) == 0)
			return i;
		p += k;
		p += strspn(p, " ");
	}
	return -1;
}

/* tmp/d: a data dir with files, a symlink to a file outside, one to a directory outside,
 * one to the volume and one dangling. */
static void make_tree_with_links(void)
{
	make_file("outside.txt", "precious");
	make_dir("outside-dir");
	make_file("outside-dir/keep.txt", "also precious");
	make_member("wal", "db");
	make_file("d/member/snap/1.snap", "snap");
	ck_assert_int_eq(symlink(AT("outside.txt"), AT("d/member/to-file")), 0);
	ck_assert_int_eq(symlink(AT("outside-dir"), AT("d/member/snap/to-dir")), 0);
	ck_assert_int_eq(symlink(tmp, AT("d/to-volume")), 0);
	ck_assert_int_eq(symlink(AT("nowhere"), AT("d/dangling")), 0);
}

START_TEST(test_tree_walk_visits)
{
	struct visits v = {0};
	struct error err;
	int r;

	make_tree_with_links();
	error_clear(&err);
	r = datadir_tree_walk(AT("d"), 0, record_visit, &v, &err);
	ck_assert_msg(r == 0, "%d: %s", r, err.msg);
	/* d, member, wal, snap; the WAL, db, snap; four links, seen as links */
	ck_assert_uint_eq(v.dirs, 4);
	ck_assert_uint_eq(v.files, 3);
	ck_assert_uint_eq(v.links, 4);
	/* children before their directory, the walked path last */
	ck_assert_int_lt(word_at(v.names, "d/member/snap/db"), word_at(v.names, "d/member/snap"));
	ck_assert_int_lt(word_at(v.names, "d/member/snap"), word_at(v.names, "d/member"));
	ck_assert_int_ge(word_at(v.names, "d/member/snap/to-dir"), 0);
	ck_assert_int_eq(word_at(v.names, "d/member/snap/to-dir/keep.txt"), -1);
	ck_assert_int_eq(word_at(v.names, "d/to-volume/outside.txt"), -1);
	ck_assert_int_eq(word_at(v.names, "d"), (int)(v.dirs + v.files + v.links - 1));
	/* nothing removed */
	ck_assert_int_eq(access(AT("d/member/wal/" WAL_NAME), F_OK), 0);
	ck_assert_int_eq(datadir_tree_walk(AT("d/"), 0, NULL, NULL, &err), 0);
}
END_TEST

START_TEST(test_tree_walk_remove)
{
	struct visits v = {0};
	struct error err;
	struct stat st;
	int r;

	make_tree_with_links();
	error_clear(&err);
	r = datadir_tree_walk(AT("d"), DATADIR_TREE_REMOVE, record_visit, &v, &err);
	ck_assert_msg(r == 0, "%d: %s", r, err.msg);
	ck_assert_uint_eq(v.dirs + v.files + v.links, 11);
	ck_assert_int_eq(lstat(AT("d"), &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* the links went as links: their targets outside survive */
	assert_content(AT("outside.txt"), "precious");
	assert_content(AT("outside-dir/keep.txt"), "also precious");
	ck_assert_int_eq(access(tmp, F_OK), 0);
	/* gone: -ENOENT, naming the path */
	error_clear(&err);
	ck_assert_int_eq(datadir_tree_walk(AT("d"), DATADIR_TREE_REMOVE, NULL, NULL, &err),
	                 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, AT("d")));
}
END_TEST

/* A walked path that is itself a symlink is one entry: removed as a link. */
START_TEST(test_tree_walk_symlink_root)
{
	struct visits v = {0};
	struct stat st;

	make_dir("real");
	make_file("real/file", "kept");
	ck_assert_int_eq(symlink(AT("real"), AT("d")), 0);
	ck_assert_int_eq(datadir_tree_walk(AT("d"), 0, record_visit, &v, NULL), 0);
	ck_assert_str_eq(v.names, "d");
	ck_assert_uint_eq(v.links, 1);
	ck_assert_int_eq(datadir_tree_walk(AT("d"), DATADIR_TREE_REMOVE, NULL, NULL, NULL), 0);
	ck_assert_int_eq(lstat(AT("d"), &st), -1);
	assert_content(AT("real/file"), "kept");
}
END_TEST

START_TEST(test_tree_walk_bad_paths)
{
	struct error err;

	error_clear(&err);
	ck_assert_int_eq(datadir_tree_walk("/", DATADIR_TREE_REMOVE, NULL, NULL, &err), -EINVAL);
	ck_assert_int_eq(datadir_tree_walk("//", DATADIR_TREE_REMOVE, NULL, NULL, &err), -EINVAL);
	ck_assert_int_eq(datadir_tree_walk(AT("x/.."), DATADIR_TREE_REMOVE, NULL, NULL, &err),
	                 -EINVAL);
	ck_assert_int_eq(datadir_tree_walk(AT("."), DATADIR_TREE_REMOVE, NULL, NULL, &err),
	                 -EINVAL);
	ck_assert_int_eq(datadir_tree_walk("", 0, NULL, NULL, &err), -EINVAL);
	ck_assert_int_eq(access(tmp, F_OK), 0);
}
END_TEST

/* A relative path is walked from the working directory and reported as given. */
START_TEST(test_tree_walk_relative)
{
	struct visits v = {0};

	make_dir("d");
	make_file("d/f", "x");
	ck_assert_int_eq(chdir(tmp), 0);
	ck_assert_int_eq(datadir_tree_walk("d", DATADIR_TREE_REMOVE, record_visit, &v, NULL), 0);
	ck_assert_str_eq(v.names, "d/f d");
	ck_assert_int_eq(access(AT("d"), F_OK), -1);
}
END_TEST

/* Deeper than 128 levels: not etcd's data; the deep part is left and the walk says so. */
START_TEST(test_tree_walk_depth)
{
	struct error err;
	int fd = open(tmp, O_RDONLY | O_DIRECTORY), r;

	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < 140; i++) {
		int next;

		ck_assert_int_eq(mkdirat(fd, i ? "n" : "d", 0700), 0);
		next = openat(fd, i ? "n" : "d", O_RDONLY | O_DIRECTORY);
		ck_assert_int_ge(next, 0);
		close(fd);
		fd = next;
	}
	close(fd);
	error_clear(&err);
	r = datadir_tree_walk(AT("d"), DATADIR_TREE_REMOVE, NULL, NULL, &err);
	ck_assert_int_eq(r, -ELOOP);
	ck_assert_ptr_nonnull(strstr(err.msg, "too deep"));
	ck_assert_int_eq(access(AT("d/n/n"), F_OK), 0);
}
END_TEST

/* ---- quarantine entries: read and restore ---- */

START_TEST(test_quarantine_entry_read)
{
	struct datadir_quarantine_entry e;
	struct timespec before, after;
	char *path, **v;
	struct error err;
	int r;

	make_member("wal-content", "db-content");
	before = wall_now();
	path = quarantine("manual", "moved aside by hand", 3);
	after = wall_now();
	v = qlist();
	ck_assert_uint_eq(qcount(v), 1);
	error_clear(&err);
	r = datadir_quarantine_entry_read(AT("d"), v[0], &e, &err);
	ck_assert_msg(r == 0, "%d: %s", r, err.msg);
	/* whole seconds of the stamp */
	ck_assert_msg(e.time >= before.tv_sec && e.time <= after.tv_sec,
	              "time %lld, not between %lld and %lld", (long long)e.time,
	              (long long)before.tv_sec, (long long)after.tv_sec);
	ck_assert_str_eq(e.reason, "moved aside by hand");
	ck_assert_str_eq(e.data_dir, AT("d"));
	ck_assert_uint_gt(e.bytes, 0);
	free(path);
	free_strv(v);

	/* an entry made by hand: no stamp, no reason file */
	make_dir(QDIR "/by-hand");
	ck_assert_int_eq(datadir_quarantine_entry_read(AT("d"), "by-hand", &e, &err), 0);
	ck_assert_int_eq(e.time, -1);
	ck_assert_str_eq(e.reason, "");
	ck_assert_int_eq(
	        datadir_quarantine_entry_read(AT("d"), "20240101T120000Z-removed", &e, &err),
	        -ENOENT);
	make_dir(QDIR "/20240101T120000Z-removed");
	ck_assert_int_eq(
	        datadir_quarantine_entry_read(AT("d"), "20240101T120000Z-removed", &e, &err), 0);
	ck_assert_int_eq(e.time, 1704110400);
}
END_TEST

static const char *const bad_entry_names[] = {"", ".", "..", ".hidden", "a/b", "../d", "/etc"};

START_TEST(test_quarantine_entry_names)
{
	struct datadir_quarantine_entry e;
	struct error err;

	make_dir(".etcd-hooks");
	make_dir(QDIR);
	error_clear(&err);
	ck_assert_int_eq(datadir_quarantine_entry_read(AT("d"), bad_entry_names[_i], &e, &err),
	                 -EINVAL);
	ck_assert_int_eq(datadir_quarantine_restore(AT("d"), bad_entry_names[_i], NULL, NULL, &err),
	                 -EINVAL);
}
END_TEST

/* Symlinks on the way are never followed: the entry, the helper or quarantine folder. */
START_TEST(test_quarantine_entry_symlinks)
{
	struct datadir_quarantine_entry e;
	struct error err;

	make_dir("elsewhere");
	make_dir("elsewhere/d");
	make_dir(".etcd-hooks");
	make_dir(QDIR);
	ck_assert_int_eq(symlink(AT("elsewhere"), AT(QDIR "/20240101T000000Z-link")), 0);
	error_clear(&err);
	ck_assert_int_eq(datadir_quarantine_entry_read(AT("d"), "20240101T000000Z-link", &e, &err),
	                 -ELOOP);
	ck_assert_int_eq(
	        datadir_quarantine_restore(AT("d"), "20240101T000000Z-link", NULL, NULL, &err),
	        -ELOOP);
	ck_assert_int_eq(access(AT("elsewhere/d"), F_OK), 0);
	ck_assert_int_eq(access(AT("d"), F_OK), -1);

	/* the quarantine folder a symlink */
	ck_assert_int_eq(rename(AT(QDIR), AT("q-real")), 0);
	make_dir("q-real/x");
	make_dir("q-real/x/d");
	ck_assert_int_eq(symlink(AT("q-real"), AT(QDIR)), 0);
	ck_assert_int_eq(datadir_quarantine_entry_read(AT("d"), "x", &e, &err), -ELOOP);
	ck_assert_int_eq(datadir_quarantine_restore(AT("d"), "x", NULL, NULL, &err), -ELOOP);
	ck_assert_int_eq(access(AT("q-real/x/d"), F_OK), 0);
}
END_TEST

/* Quarantine tmp/d and return the entry's name (malloc'd). */
static char *quarantined_entry(void)
{
	char *path = quarantine("manual", "r", 10), **v = qlist(), *name;

	ck_assert_uint_ge(qcount(v), 1);
	name = strdup(v[qcount(v) - 1]);
	ck_assert_ptr_nonnull(strstr(path, name));
	free(path);
	free_strv(v);
	return name;
}

START_TEST(test_quarantine_restore)
{
	char *entry, *from = NULL, file[4096], want[4096];
	struct error err;
	bool left = true;
	char **v;
	int r;

	make_member("wal-content", "db-content");
	entry = quarantined_entry();
	error_clear(&err);
	r = datadir_quarantine_restore(AT("d"), entry, &from, &left, &err);
	ck_assert_msg(r == 0, "%d: %s", r, err.msg);
	snprintf(want, sizeof(want), "%s/" QDIR "/%s/d", tmp, entry);
	ck_assert_str_eq(from, want);
	ck_assert(!left);
	snprintf(file, sizeof(file), "%s/member/wal/" WAL_NAME, AT("d"));
	assert_content(file, "wal-content");
	assert_content(AT("d/member/snap/db"), "db-content");
	/* the entry is gone */
	v = qlist();
	ck_assert_uint_eq(qcount(v), 0);
	free_strv(v);
	free(from);
	free(entry);

	/* into an empty directory (the rename replaces it), with a trailing slash */
	entry = quarantined_entry();
	make_dir("d");
	ck_assert_int_eq(datadir_quarantine_restore(AT("d/"), entry, NULL, NULL, &err), 0);
	assert_content(AT("d/member/snap/db"), "db-content");
	free(entry);
}
END_TEST

/* The data dir must be free: absent or an empty directory; the entry stays untouched. */
START_TEST(test_quarantine_restore_refused)
{
	char *entry, names[256], rel[512];
	struct error err;
	struct stat st;

	make_member("wal", "db");
	entry = quarantined_entry();
	snprintf(rel, sizeof(rel), QDIR "/%s", entry);

	make_dir("d");
	make_file("d/x", "new data");
	error_clear(&err);
	ck_assert_int_eq(datadir_quarantine_restore(AT("d"), entry, NULL, NULL, &err), -ENOTEMPTY);
	ck_assert_ptr_nonnull(strstr(err.msg, AT("d")));
	assert_content(AT("d/x"), "new data");
	ck_assert_int_eq(remove(AT("d/x")), 0);
	ck_assert_int_eq(remove(AT("d")), 0);

	make_file("d", "a file");
	ck_assert_int_eq(datadir_quarantine_restore(AT("d"), entry, NULL, NULL, &err), -ENOTEMPTY);
	ck_assert_int_eq(remove(AT("d")), 0);

	make_dir("empty");
	ck_assert_int_eq(symlink(AT("empty"), AT("d")), 0);
	ck_assert_int_eq(datadir_quarantine_restore(AT("d"), entry, NULL, NULL, &err), -ELOOP);
	ck_assert_int_eq(lstat(AT("d"), &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	list_dir("empty", names, sizeof(names));
	ck_assert_str_eq(names, "");

	list_dir(rel, names, sizeof(names));
	ck_assert_str_eq(names, "d reason");
	ck_assert_int_eq(datadir_quarantine_restore(AT("d"), "no-such-entry", NULL, NULL, &err),
	                 -ENOENT);
	free(entry);
}
END_TEST

/* Which directory of the entry is the data: named like the data dir, else the only one. */
START_TEST(test_quarantine_restore_which_dir)
{
	char *entry, *from = NULL, rel[512];
	struct error err;
	bool left = false;

	make_member("wal", "db-d");
	entry = quarantined_entry();
	snprintf(rel, sizeof(rel), QDIR "/%s/extra", entry);
	error_clear(&err);
	/* restored under another name: the entry's only directory */
	ck_assert_int_eq(datadir_quarantine_restore(AT("e"), entry, &from, &left, &err), 0);
	assert_content(AT("e/member/snap/db"), "db-d");
	ck_assert(!left);
	free(from);
	free(entry);

	/* two directories and neither is named like the data dir: which one? */
	make_member("wal", "db-d2");
	entry = quarantined_entry();
	snprintf(rel, sizeof(rel), QDIR "/%s/other", entry);
	make_dir(rel);
	ck_assert_int_eq(datadir_quarantine_restore(AT("f"), entry, NULL, NULL, &err), -EEXIST);
	ck_assert_int_eq(access(AT("f"), F_OK), -1);
	/* ... named like it: that one; the other stays, and so does the entry */
	ck_assert_int_eq(datadir_quarantine_restore(AT("d"), entry, NULL, &left, &err), 0);
	assert_content(AT("d/member/snap/db"), "db-d2");
	ck_assert(left);
	ck_assert_int_eq(access(AT(rel), F_OK), 0);
	free(entry);

	/* the data inside the entry a symlink: not followed */
	make_dir(".etcd-hooks/quarantine/20240101T000000Z-x");
	make_dir("target");
	ck_assert_int_eq(symlink(AT("target"), AT(QDIR "/20240101T000000Z-x/g")), 0);
	ck_assert_int_eq(
	        datadir_quarantine_restore(AT("g"), "20240101T000000Z-x", NULL, NULL, &err),
	        -ELOOP);
	ck_assert_int_eq(access(AT("g"), F_OK), -1);
	/* no directory at all */
	make_dir(".etcd-hooks/quarantine/20240101T000001Z-empty");
	ck_assert_int_eq(
	        datadir_quarantine_restore(AT("h"), "20240101T000001Z-empty", NULL, NULL, &err),
	        -ENOENT);
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
	suite_add_tcase(s, tc);

	tc = tcase_create("helper");
	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_loop_test(tc, test_helper_dir, 0, sizeof(helpers) / sizeof(helpers[0]));
	tcase_add_test(tc, test_write_atomic);
	tcase_add_test(tc, test_write_atomic_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("quarantine");
	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_test(tc, test_quarantine_moves);
	tcase_add_test(tc, test_quarantine_symlinked_folders);
	tcase_add_test(tc, test_quarantine_retention);
	tcase_add_test(tc, test_quarantine_retention_symlinks);
	tcase_add_test(tc, test_quarantine_retention_bound);
	tcase_add_test(tc, test_quarantine_partial_never_pushes_valid);
	tcase_add_test(tc, test_check_volume);
	tcase_add_test(tc, test_quarantine_member_data_retention);
	tcase_add_test(tc, test_quarantine_prune_later);
	tcase_add_test(tc, test_quarantine_partial_member_data_kept);
	tcase_add_test(tc, test_quarantine_trailing_slash);
	tcase_add_test(tc, test_quarantine_missing);
	tcase_add_test(tc, test_quarantine_list);
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

	tc = tcase_create("tree_walk");
	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_test(tc, test_tree_walk_visits);
	tcase_add_test(tc, test_tree_walk_remove);
	tcase_add_test(tc, test_tree_walk_symlink_root);
	tcase_add_test(tc, test_tree_walk_bad_paths);
	tcase_add_test(tc, test_tree_walk_relative);
	tcase_add_test(tc, test_tree_walk_depth);
	suite_add_tcase(s, tc);

	tc = tcase_create("quarantine_restore");
	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_test(tc, test_quarantine_entry_read);
	tcase_add_loop_test(tc, test_quarantine_entry_names, 0,
	                    sizeof(bad_entry_names) / sizeof(bad_entry_names[0]));
	tcase_add_test(tc, test_quarantine_entry_symlinks);
	tcase_add_test(tc, test_quarantine_restore);
	tcase_add_test(tc, test_quarantine_restore_refused);
	tcase_add_test(tc, test_quarantine_restore_which_dir);
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
