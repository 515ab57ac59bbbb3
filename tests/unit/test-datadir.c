/* Unit tests of common/datadir: the offline inspection of data dirs built in temp dirs, the
 * WAL lock probe against our own OFD lock and against a REAL running etcd (ETCD_BIN, set by
 * meson; a missing binary fails the test), the helper folder's path and atomic writes, the
 * quarantine (the move, the reason, bounded retention that never follows a symlink, no
 * trace on failure) and the cluster marker. */
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
static char top[64];
static char tmp[128];

static void make_tmp(void)
{
	snprintf(tmp, sizeof(tmp), "%s/test-XXXXXX", top);
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* tmp/rel, into buf */
static const char *at(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", tmp, rel);
	return buf;
}
#define AT(rel) at((char[4096]){0}, 4096, (rel))

static void make_dir(const char *rel)
{
	ck_assert_msg(mkdir(AT(rel), 0700) == 0, "mkdir %s: %s", rel, strerror(errno));
}

static void make_file(const char *rel, const char *content)
{
	FILE *f = fopen(AT(rel), "w");

	ck_assert_msg(f != NULL, "create %s: %s", rel, strerror(errno));
	fputs(content, f);
	ck_assert_int_eq(fclose(f), 0);
}

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
	r = datadir_quarantine(AT("d"), tag, reason, keep, &path, &err);
	ck_assert_msg(r == 0, "quarantine: %d: %s", r, err.msg);
	ck_assert_ptr_nonnull(path);
	return path;
}

/* "<stamp>-<tag>" with stamp = YYYYmmddTHHMMSS.nnnnnnnnnZ, UTC, within 10 s of now. */
static void assert_entry_name(const char *name, const char *tag)
{
	struct tm tm = {0};
	const char *end = strptime(name, "%Y%m%dT%H%M%S", &tm);
	time_t t, now = time(NULL);

	ck_assert_msg(end && end - name == 15 && end[0] == '.' &&
	                      strspn(end + 1, "0123456789") == 9 && end[10] == 'Z',
	              "'%s' does not start with a UTC stamp", name);
	end += 11;
	ck_assert_msg(end[0] == '-' && strncmp(end + 1, tag, strlen(tag)) == 0,
	              "'%s' does not carry the tag '%s'", name, tag);
	t = timegm(&tm);
	ck_assert_msg(t <= now && now - t <= 10, "the stamp of '%s' is not now (UTC)", name);
}

START_TEST(test_quarantine_moves)
{
	char want[4096], file[4096], *path, **v;
	struct stat st;

	make_member("wal-content", "db-content");
	make_file("d/member/snap/0000000000000002-0000000000000005.snap", "snap");
	path = quarantine("partial", "the data dir holds partial data", 3);

	/* <parent>/.etcd-hooks/quarantine/<stamp>-<tag>/<basename> */
	v = qlist();
	ck_assert_uint_eq(qcount(v), 1);
	assert_entry_name(v[0], "partial");
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
	ck_assert_int_eq(datadir_quarantine(AT("d"), "t", "r", 3, NULL, NULL), 0);
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
	r = datadir_quarantine(AT("d/"), "partial", "r", 3, &path, &err);
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
	struct error err;
	int r;

	error_clear(&err);
	r = datadir_quarantine(AT("d"), "partial", "r", 3, &path, &err);
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
	free(quarantine("first", "r", 3));
	error_clear(&err);
	ck_assert_int_lt(datadir_quarantine(AT("d"), "second", "r", 3, NULL, &err), 0);
	v = qlist();
	ck_assert_uint_eq(qcount(v), 1);
	assert_entry_name(v[0], "first");
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

/* ---- a real etcd ---- */

static unsigned free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Start etcd on loopback with data dir tmp/d; it dies with this test process. */
static pid_t start_etcd(const char *bin)
{
	char client[64], peer[64], cluster[80], data_dir[4096], log[4096];
	pid_t parent = getpid(), pid;

	snprintf(client, sizeof(client), "http://127.0.0.1:%u", free_port());
	snprintf(peer, sizeof(peer), "http://127.0.0.1:%u", free_port());
	snprintf(cluster, sizeof(cluster), "n1=%s", peer);
	at(data_dir, sizeof(data_dir), "d");
	at(log, sizeof(log), "etcd.log");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* clang-format off */
		char *const argv[] = {
			(char *)bin,
			"--name", "n1",
			"--data-dir", data_dir,
			"--listen-client-urls", client,
			"--advertise-client-urls", client,
			"--listen-peer-urls", peer,
			"--initial-advertise-peer-urls", peer,
			"--initial-cluster", cluster,
			"--initial-cluster-state", "new",
			NULL,
		};
		/* clang-format on */
		char *const envp[] = {NULL};
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execve(bin, argv, envp);
		_exit(127);
	}
	return pid;
}

static void stop_etcd(pid_t pid)
{
	double until = now() + 10;
	int status;

	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now() > until) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(20000);
	}
}

/* The end of etcd's log, for a failure message. */
static const char *etcd_log_tail(char *buf, size_t size)
{
	FILE *f = fopen(AT("etcd.log"), "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f) {
		fseek(f, -(long)(size - 1), SEEK_END);
		n = fread(buf, 1, size - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

START_TEST(test_real_etcd)
{
	char log[600];
	const char *bin = getenv("ETCD_BIN");
	char wal[4096];
	struct datadir_info info;
	double until;
	int status = 0;
	pid_t pid;

	ck_assert_msg(bin && access(bin, X_OK) == 0,
	              "no etcd at ETCD_BIN='%s': this test needs a real etcd 3.4; run "
	              "tests/fetch-etcd 3.4 (it fills $ETCD_CACHE, default /var/cache/etcd-hooks)",
	              bin ? bin : "");
	pid = start_etcd(bin);
	at(wal, sizeof(wal), "d/member/wal/" WAL_NAME);
	/* etcd creates the WAL in member/wal.tmp, locks it and renames the dir: once the WAL
	 * is at its place, it is locked */
	until = now() + 30;
	while (access(wal, F_OK) != 0) {
		ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0,
		              "etcd exited (status 0x%x) before it wrote its WAL; its log ends "
		              "with:\n%s",
		              status, etcd_log_tail(log, sizeof(log)));
		ck_assert_msg(now() < until, "no WAL after 30 s; etcd's log ends with:\n%s",
		              etcd_log_tail(log, sizeof(log)));
		usleep(20000);
	}
	info = inspect("d");
	ck_assert_msg(info.state == DATADIR_IN_USE, "a running etcd's data dir is '%s': %s",
	              datadir_state_name(info.state), info.reason);
	ck_assert_int_eq(datadir_file_locked(wal), 1);

	stop_etcd(pid);
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
	tcase_add_test(tc, test_quarantine_retention);
	tcase_add_test(tc, test_quarantine_retention_symlinks);
	tcase_add_test(tc, test_quarantine_retention_bound);
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

	tc = tcase_create("real_etcd");
	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_real_etcd);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(datadir_suite());
	int failures;

	strcpy(top, "/tmp/test-datadir-XXXXXX");
	if (!mkdtemp(top)) {
		perror("test-datadir: mkdtemp");
		return 1;
	}
	srunner_run_all(sr, CK_ENV);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(top, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return failures ? 1 : 0;
}
