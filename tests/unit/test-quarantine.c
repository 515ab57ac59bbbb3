/* Unit tests of common/quarantine: the move, the reason, bounded retention that never
 * deletes the last copy of member data nor follows a symlink, no trace on failure; reading
 * an entry and the way back out. */
#include "testmember.h"
#include "quarantine.h"
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

#define QDIR ".etcd-hooks/quarantine"

static char **qlist(void)
{
	struct error err;
	char **v = NULL;
	int r;

	error_clear(&err);
	r = quarantine_list(AT("d"), &v, &err);
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
static char *quarantine(enum quarantine_tag tag, const char *reason, unsigned keep)
{
	struct error err;
	char *path = NULL;
	int r;

	error_clear(&err);
	r = quarantine_move(AT("d"), tag, reason, keep, NULL, NULL, &path, &err);
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
	ck_assert_int_eq(
	        quarantine_move(AT("d"), QUARANTINE_MANUAL, "why", 1, NULL, NULL, NULL, &err),
	        -ELOOP);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a directory"));
	ck_assert_int_eq(stat(AT("d/f"), &st), 0);
	ck_assert_int_eq(stat(AT("victim/a/keep"), &st), 0);
	error_clear(&err);
	ck_assert_int_lt(quarantine_list(AT("d"), &v, &err), 0);
	/* the helper folder itself points outside */
	ck_assert_int_eq(unlink(AT(".etcd-hooks/quarantine")), 0);
	ck_assert_int_eq(rmdir(AT(".etcd-hooks")), 0);
	ck_assert_int_eq(symlink(AT("victim"), AT(".etcd-hooks")), 0);
	error_clear(&err);
	ck_assert_int_eq(
	        quarantine_move(AT("d"), QUARANTINE_MANUAL, "why", 1, NULL, NULL, NULL, &err),
	        -ELOOP);
	ck_assert_int_eq(state_write_atomic(AT(".etcd-hooks"), "x", "y", &err), -ELOOP);
	ck_assert_int_eq(state_tombstone_clear(AT("d"), &err), -ELOOP);
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
	path = quarantine(QUARANTINE_PARTIAL, "the data dir holds partial data", 3);
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
	ck_assert_int_eq(
	        quarantine_move(AT("d"), QUARANTINE_MANUAL, "r", 3, NULL, NULL, NULL, NULL), 0);
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
		path = quarantine(QUARANTINE_REMOVED, db, 2);
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

static char *quarantine_logged(enum quarantine_tag tag, unsigned keep, struct pruned *p)
{
	struct error err;
	char *path = NULL;
	int r;

	error_clear(&err);
	r = quarantine_move(AT("d"), tag, quarantine_tag_name(tag), keep, on_prune, p, &path, &err);
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
	free(quarantine_logged(QUARANTINE_REMOVED, 2, &p));
	for (int i = 0; i < 4; i++) {
		char db[16];

		snprintf(db, sizeof(db), "skel%d", i);
		make_member(NULL, db);
		path = quarantine_logged(QUARANTINE_PARTIAL, 2, &p);
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
	free(quarantine_logged(QUARANTINE_PARTIAL, 1, &p));
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
	free(quarantine_logged(QUARANTINE_REMOVED, 2, &p));
	make_member(NULL, "skel");
	free(quarantine_logged(QUARANTINE_PARTIAL, 2, &p));
	make_member("wal", "m2");
	free(quarantine_logged(QUARANTINE_REMOVED, 2, &p));
	/* 3 entries, 2 of them member data: the skeleton goes */
	quarantined_generations(left, sizeof(left));
	ck_assert_str_eq(left, "m1 m2");
	ck_assert_uint_eq(p.n, 1);
	make_member("wal", "m3");
	free(quarantine_logged(QUARANTINE_REMOVED, 2, &p));
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
	char **v, big[QUARANTINE_PRECIOUS_DB_BYTES + 1];
	size_t n;

	make_member("wal", NULL);
	free(quarantine_logged(QUARANTINE_PARTIAL, 2, &p));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	make_member(NULL, big);
	free(quarantine_logged(QUARANTINE_PARTIAL, 2, &p));
	for (int i = 0; i < 3; i++) {
		make_member(NULL, "skeleton");
		free(quarantine_logged(QUARANTINE_PARTIAL, 2, &p));
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
		ck_assert_msg(stat(path, &st) == 0 && st.st_size == QUARANTINE_PRECIOUS_DB_BYTES,
		              "the big db entry is gone: %s", path);
	}
	free_strv(v);
	/* and they go, as member data, once more than `keep` copies of it remain */
	make_member("wal", "m");
	free(quarantine_logged(QUARANTINE_REMOVED, 2, &p));
	ck_assert_msg(strstr(p.held[p.n - 1], "partial member data"), "it held '%s'",
	              p.held[p.n - 1]);
}
END_TEST

/* keep 0 leaves the retention to the caller; quarantine_prune() applies it later as
 * if the newest entry were new: member data beyond `keep` goes, oldest first; the newest
 * entry stays, even a skeleton; nothing happens without a quarantine or with keep 0. */
START_TEST(test_quarantine_prune_later)
{
	struct pruned p = {0};
	char left[256];

	quarantine_prune(AT("d"), 2, on_prune, &p);
	ck_assert_uint_eq(p.n, 0);
	for (int i = 1; i <= 4; i++) {
		char gen[16];

		snprintf(gen, sizeof(gen), "m%d", i);
		make_member("wal", gen);
		free(quarantine_logged(QUARANTINE_LEFT, 0, &p));
	}
	quarantined_generations(left, sizeof(left));
	ck_assert_str_eq(left, "m1 m2 m3 m4");
	ck_assert_uint_eq(p.n, 0);
	quarantine_prune(AT("d"), 0, on_prune, &p);
	ck_assert_uint_eq(p.n, 0);
	quarantine_prune(AT("d"), 2, on_prune, &p);
	quarantined_generations(left, sizeof(left));
	ck_assert_str_eq(left, "m3 m4");
	ck_assert_uint_eq(p.n, 2);
	ck_assert_msg(strstr(p.held[0], "member data"), "it held '%s'", p.held[0]);
	/* a skeleton newest: it stays, and so do the two member data copies */
	make_member(NULL, "skel");
	free(quarantine_logged(QUARANTINE_PARTIAL, 0, &p));
	quarantine_prune(AT("d"), 2, on_prune, &p);
	quarantined_generations(left, sizeof(left));
	ck_assert_str_eq(left, "m3 m4 skel");
	ck_assert_uint_eq(p.n, 2);
	/* again: nothing more goes */
	quarantine_prune(AT("d"), 2, on_prune, &p);
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
	newer = quarantine(QUARANTINE_MANUAL, "new", 1);
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
	path = quarantine(QUARANTINE_MANUAL, "r", 2);
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
 * the settings' checks, and state_helper_dir() accepts it) is moved like without. */
START_TEST(test_quarantine_trailing_slash)
{
	char want_end[64], *path = NULL;
	struct error err;
	int r;

	make_member("wal", "db");
	error_clear(&err);
	r = quarantine_move(AT("d/"), QUARANTINE_PARTIAL, "r", 3, NULL, NULL, &path, &err);
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
	r = quarantine_move(AT("d"), QUARANTINE_PARTIAL, "r", 3, NULL, NULL, &path, &err);
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
	free(quarantine(QUARANTINE_MANUAL, "r", 3));
	after = wall_now();
	error_clear(&err);
	ck_assert_int_lt(
	        quarantine_move(AT("d"), QUARANTINE_MANUAL, "r", 3, NULL, NULL, NULL, &err), 0);
	v = qlist();
	ck_assert_uint_eq(qcount(v), 1);
	assert_entry_name(v[0], "manual", before, after);
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
START_TEST(test_quarantine_tag_names)
{
	ck_assert_str_eq(quarantine_tag_name(QUARANTINE_PARTIAL), "partial");
	ck_assert_str_eq(quarantine_tag_name(QUARANTINE_LEFT), "left");
	ck_assert_str_eq(quarantine_tag_name(QUARANTINE_REMOVED), "removed");
	ck_assert_str_eq(quarantine_tag_name(QUARANTINE_MANUAL), "manual");
	ck_assert_str_eq(quarantine_tag_name((enum quarantine_tag)99), "other");
}
END_TEST

/* ---- quarantine entries: read and restore ---- */

START_TEST(test_quarantine_entry_read)
{
	struct quarantine_entry e;
	struct timespec before, after;
	char *path, **v;
	struct error err;
	int r;

	make_member("wal-content", "db-content");
	before = wall_now();
	path = quarantine(QUARANTINE_MANUAL, "moved aside by hand", 3);
	after = wall_now();
	v = qlist();
	ck_assert_uint_eq(qcount(v), 1);
	error_clear(&err);
	r = quarantine_entry_read(AT("d"), v[0], &e, &err);
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
	ck_assert_int_eq(quarantine_entry_read(AT("d"), "by-hand", &e, &err), 0);
	ck_assert_int_eq(e.time, -1);
	ck_assert_str_eq(e.reason, "");
	ck_assert_int_eq(quarantine_entry_read(AT("d"), "20240101T120000Z-removed", &e, &err),
	                 -ENOENT);
	make_dir(QDIR "/20240101T120000Z-removed");
	ck_assert_int_eq(quarantine_entry_read(AT("d"), "20240101T120000Z-removed", &e, &err), 0);
	ck_assert_int_eq(e.time, 1704110400);
}
END_TEST

static const char *const bad_entry_names[] = {"", ".", "..", ".hidden", "a/b", "../d", "/etc"};

START_TEST(test_quarantine_entry_names)
{
	struct quarantine_entry e;
	struct error err;

	make_dir(".etcd-hooks");
	make_dir(QDIR);
	error_clear(&err);
	ck_assert_int_eq(quarantine_entry_read(AT("d"), bad_entry_names[_i], &e, &err), -EINVAL);
	ck_assert_int_eq(quarantine_restore(AT("d"), bad_entry_names[_i], NULL, NULL, &err),
	                 -EINVAL);
}
END_TEST

/* Symlinks on the way are never followed: the entry, the helper or quarantine folder. */
START_TEST(test_quarantine_entry_symlinks)
{
	struct quarantine_entry e;
	struct error err;

	make_dir("elsewhere");
	make_dir("elsewhere/d");
	make_dir(".etcd-hooks");
	make_dir(QDIR);
	ck_assert_int_eq(symlink(AT("elsewhere"), AT(QDIR "/20240101T000000Z-link")), 0);
	error_clear(&err);
	ck_assert_int_eq(quarantine_entry_read(AT("d"), "20240101T000000Z-link", &e, &err), -ELOOP);
	ck_assert_int_eq(quarantine_restore(AT("d"), "20240101T000000Z-link", NULL, NULL, &err),
	                 -ELOOP);
	ck_assert_int_eq(access(AT("elsewhere/d"), F_OK), 0);
	ck_assert_int_eq(access(AT("d"), F_OK), -1);

	/* the quarantine folder a symlink */
	ck_assert_int_eq(rename(AT(QDIR), AT("q-real")), 0);
	make_dir("q-real/x");
	make_dir("q-real/x/d");
	ck_assert_int_eq(symlink(AT("q-real"), AT(QDIR)), 0);
	ck_assert_int_eq(quarantine_entry_read(AT("d"), "x", &e, &err), -ELOOP);
	ck_assert_int_eq(quarantine_restore(AT("d"), "x", NULL, NULL, &err), -ELOOP);
	ck_assert_int_eq(access(AT("q-real/x/d"), F_OK), 0);
}
END_TEST

/* Quarantine tmp/d and return the entry's name (malloc'd). */
static char *quarantined_entry(void)
{
	char *path = quarantine(QUARANTINE_MANUAL, "r", 10), **v = qlist(), *name;

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
	r = quarantine_restore(AT("d"), entry, &from, &left, &err);
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
	ck_assert_int_eq(quarantine_restore(AT("d/"), entry, NULL, NULL, &err), 0);
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
	ck_assert_int_eq(quarantine_restore(AT("d"), entry, NULL, NULL, &err), -ENOTEMPTY);
	ck_assert_ptr_nonnull(strstr(err.msg, AT("d")));
	assert_content(AT("d/x"), "new data");
	ck_assert_int_eq(remove(AT("d/x")), 0);
	ck_assert_int_eq(remove(AT("d")), 0);

	make_file("d", "a file");
	ck_assert_int_eq(quarantine_restore(AT("d"), entry, NULL, NULL, &err), -ENOTEMPTY);
	ck_assert_int_eq(remove(AT("d")), 0);

	make_dir("empty");
	ck_assert_int_eq(symlink(AT("empty"), AT("d")), 0);
	ck_assert_int_eq(quarantine_restore(AT("d"), entry, NULL, NULL, &err), -ELOOP);
	ck_assert_int_eq(lstat(AT("d"), &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	list_dir("empty", names, sizeof(names));
	ck_assert_str_eq(names, "");

	list_dir(rel, names, sizeof(names));
	ck_assert_str_eq(names, "d reason");
	ck_assert_int_eq(quarantine_restore(AT("d"), "no-such-entry", NULL, NULL, &err), -ENOENT);
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
	ck_assert_int_eq(quarantine_restore(AT("e"), entry, &from, &left, &err), 0);
	assert_content(AT("e/member/snap/db"), "db-d");
	ck_assert(!left);
	free(from);
	free(entry);

	/* two directories and neither is named like the data dir: which one? */
	make_member("wal", "db-d2");
	entry = quarantined_entry();
	snprintf(rel, sizeof(rel), QDIR "/%s/other", entry);
	make_dir(rel);
	ck_assert_int_eq(quarantine_restore(AT("f"), entry, NULL, NULL, &err), -EEXIST);
	ck_assert_int_eq(access(AT("f"), F_OK), -1);
	/* ... named like it: that one; the other stays, and so does the entry */
	ck_assert_int_eq(quarantine_restore(AT("d"), entry, NULL, &left, &err), 0);
	assert_content(AT("d/member/snap/db"), "db-d2");
	ck_assert(left);
	ck_assert_int_eq(access(AT(rel), F_OK), 0);
	free(entry);

	/* the data inside the entry a symlink: not followed */
	make_dir(".etcd-hooks/quarantine/20240101T000000Z-x");
	make_dir("target");
	ck_assert_int_eq(symlink(AT("target"), AT(QDIR "/20240101T000000Z-x/g")), 0);
	ck_assert_int_eq(quarantine_restore(AT("g"), "20240101T000000Z-x", NULL, NULL, &err),
	                 -ELOOP);
	ck_assert_int_eq(access(AT("g"), F_OK), -1);
	/* no directory at all */
	make_dir(".etcd-hooks/quarantine/20240101T000001Z-empty");
	ck_assert_int_eq(quarantine_restore(AT("h"), "20240101T000001Z-empty", NULL, NULL, &err),
	                 -ENOENT);
}
END_TEST

static Suite *quarantine_suite(void)
{
	Suite *s = suite_create("quarantine");
	TCase *tc = tcase_create("move");

	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_test(tc, test_quarantine_moves);
	tcase_add_test(tc, test_quarantine_symlinked_folders);
	tcase_add_test(tc, test_quarantine_retention);
	tcase_add_test(tc, test_quarantine_retention_symlinks);
	tcase_add_test(tc, test_quarantine_retention_bound);
	tcase_add_test(tc, test_quarantine_partial_never_pushes_valid);
	tcase_add_test(tc, test_quarantine_member_data_retention);
	tcase_add_test(tc, test_quarantine_prune_later);
	tcase_add_test(tc, test_quarantine_partial_member_data_kept);
	tcase_add_test(tc, test_quarantine_trailing_slash);
	tcase_add_test(tc, test_quarantine_missing);
	tcase_add_test(tc, test_quarantine_list);
	tcase_add_test(tc, test_quarantine_tag_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("restore");
	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_test(tc, test_quarantine_entry_read);
	tcase_add_loop_test(tc, test_quarantine_entry_names, 0,
	                    sizeof(bad_entry_names) / sizeof(bad_entry_names[0]));
	tcase_add_test(tc, test_quarantine_entry_symlinks);
	tcase_add_test(tc, test_quarantine_restore);
	tcase_add_test(tc, test_quarantine_restore_refused);
	tcase_add_test(tc, test_quarantine_restore_which_dir);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testdir_run("quarantine", quarantine_suite());
}
