/* common/fsutil: the first line of a file, a process's start time, path trimming, counting
 * a folder's entries, and the tree walker (which never follows a symlink nor crosses into
 * another file system), on trees built in temp dirs. */
#include "testmember.h"
#include "fsutil.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[128];

/* The scratch folder of the first-line test: a fresh dir of its own. */
static void make_scratch(void)
{
	snprintf(dir, sizeof(dir), "%s/first-XXXXXX", top);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_first_line)
{
	static const char *const names[] = {"a", "empty", "blank"};
	char *line = NULL, path[128];

	make_scratch();
	write_file("a", "prod\r\nsecond\n");
	ck_assert_int_eq(fsutil_first_line(dir, "a", &line), 0);
	ck_assert_str_eq(line, "prod");
	free(line);
	write_file("empty", "");
	ck_assert_int_eq(fsutil_first_line(dir, "empty", &line), -ENODATA);
	ck_assert_ptr_null(line);
	write_file("blank", "\nsecond\n");
	ck_assert_int_eq(fsutil_first_line(dir, "blank", &line), -ENODATA);
	ck_assert_int_eq(fsutil_first_line(dir, "missing", &line), -ENOENT);
	ck_assert_ptr_null(line);
	/* a directory where the file should be: an error of its own, not "missing" */
	snprintf(path, sizeof(path), "%s/sub", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(fsutil_first_line(dir, "sub", &line), -EISDIR);
	rmdir(path);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_process_start_time)
{
	char buf[32], pid[32];

	ck_assert_int_eq(fsutil_process_start_time("self", buf, sizeof(buf)), 0);
	ck_assert(buf[0] >= '0' && buf[0] <= '9');
	ck_assert_uint_eq(strspn(buf, "0123456789"), strlen(buf));
	/* this process by its number: the same start time */
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	{
		char again[32];

		ck_assert_int_eq(fsutil_process_start_time(pid, again, sizeof(again)), 0);
		ck_assert_str_eq(buf, again);
	}
	/* pid_max is at most 2^22: no such process */
	ck_assert_int_eq(fsutil_process_start_time("99999999", buf, sizeof(buf)), -ENOENT);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_trim_slashes)
{
	char a[] = "/var/run/etcd/default.etcd//", b[] = "/", c[] = "///", d[] = "x";

	ck_assert_uint_eq(fsutil_trim_slashes(a), strlen("/var/run/etcd/default.etcd"));
	ck_assert_str_eq(a, "/var/run/etcd/default.etcd");
	ck_assert_uint_eq(fsutil_trim_slashes(b), 1);
	ck_assert_str_eq(b, "/");
	ck_assert_uint_eq(fsutil_trim_slashes(c), 1);
	ck_assert_str_eq(c, "/");
	ck_assert_uint_eq(fsutil_trim_slashes(d), 1);
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
	r = fsutil_tree_walk(AT("d"), 0, record_visit, &v, &err);
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
	ck_assert_int_eq(fsutil_tree_walk(AT("d/"), 0, NULL, NULL, &err), 0);
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
	r = fsutil_tree_walk(AT("d"), FSUTIL_TREE_REMOVE, record_visit, &v, &err);
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
	ck_assert_int_eq(fsutil_tree_walk(AT("d"), FSUTIL_TREE_REMOVE, NULL, NULL, &err), -ENOENT);
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
	ck_assert_int_eq(fsutil_tree_walk(AT("d"), 0, record_visit, &v, NULL), 0);
	ck_assert_str_eq(v.names, "d");
	ck_assert_uint_eq(v.links, 1);
	ck_assert_int_eq(fsutil_tree_walk(AT("d"), FSUTIL_TREE_REMOVE, NULL, NULL, NULL), 0);
	ck_assert_int_eq(lstat(AT("d"), &st), -1);
	assert_content(AT("real/file"), "kept");
}
END_TEST

START_TEST(test_tree_walk_bad_paths)
{
	struct error err;

	error_clear(&err);
	ck_assert_int_eq(fsutil_tree_walk("/", FSUTIL_TREE_REMOVE, NULL, NULL, &err), -EINVAL);
	ck_assert_int_eq(fsutil_tree_walk("//", FSUTIL_TREE_REMOVE, NULL, NULL, &err), -EINVAL);
	ck_assert_int_eq(fsutil_tree_walk(AT("x/.."), FSUTIL_TREE_REMOVE, NULL, NULL, &err),
	                 -EINVAL);
	ck_assert_int_eq(fsutil_tree_walk(AT("."), FSUTIL_TREE_REMOVE, NULL, NULL, &err), -EINVAL);
	ck_assert_int_eq(fsutil_tree_walk("", 0, NULL, NULL, &err), -EINVAL);
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
	ck_assert_int_eq(fsutil_tree_walk("d", FSUTIL_TREE_REMOVE, record_visit, &v, NULL), 0);
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
	r = fsutil_tree_walk(AT("d"), FSUTIL_TREE_REMOVE, NULL, NULL, &err);
	ck_assert_int_eq(r, -ELOOP);
	ck_assert_ptr_nonnull(strstr(err.msg, "too deep"));
	ck_assert_int_eq(access(AT("d/n/n"), F_OK), 0);
}
END_TEST

START_TEST(test_count_entries)
{
	size_t n = 99;

	make_dir("d");
	ck_assert_int_eq(fsutil_count_entries(AT("d"), &n), 0);
	ck_assert_uint_eq(n, 0);
	make_file("d/a", "x");
	make_dir("d/b");
	ck_assert_int_eq(symlink("nowhere", AT("d/c")), 0);
	ck_assert_int_eq(fsutil_count_entries(AT("d"), &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(fsutil_count_entries(AT("nope"), &n), -ENOENT);
	ck_assert_int_eq(fsutil_count_entries(AT("d/a"), &n), -ENOTDIR);
}
END_TEST

/* The walk of an entry of an open folder: removes it whole, symlinks as links, and names
 * its paths from the folder's path. */
START_TEST(test_tree_walk_at)
{
	struct visits v = {0};
	struct error err;
	int parent;

	error_clear(&err);
	make_tree_with_links();
	make_file("outside", "kept");
	ck_assert_int_eq(symlink(AT("outside"), AT("link")), 0);
	parent = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(parent, 0);
	ck_assert_int_eq(
	        fsutil_tree_walk_at(parent, "d", tmp, FSUTIL_TREE_REMOVE, record_visit, &v, &err),
	        0);
	ck_assert_int_eq(access(AT("d"), F_OK), -1);
	/* what the tree's symlinks point to is never touched */
	ck_assert_int_eq(access(AT("outside.txt"), F_OK), 0);
	ck_assert_int_eq(access(AT("outside-dir/keep.txt"), F_OK), 0);
	ck_assert_uint_ge(v.files, 1);
	ck_assert_ptr_nonnull(strstr(v.names, "d/"));
	/* a symlink entry goes as a link; its target stays */
	ck_assert_int_eq(
	        fsutil_tree_walk_at(parent, "link", tmp, FSUTIL_TREE_REMOVE, NULL, NULL, &err), 0);
	ck_assert_int_eq(access(AT("outside"), F_OK), 0);
	ck_assert_int_eq(fsutil_tree_walk_at(parent, "nope", tmp, 0, NULL, NULL, &err), -ENOENT);
	ck_assert_int_eq(fsutil_tree_walk_at(parent, "..", tmp, 0, NULL, NULL, &err), -EINVAL);
	ck_assert_int_eq(fsutil_tree_walk_at(parent, "a/b", tmp, 0, NULL, NULL, &err), -EINVAL);
	ck_assert_int_eq(fsutil_tree_walk_at(parent, "", tmp, 0, NULL, NULL, &err), -EINVAL);
	close(parent);
}
END_TEST

static Suite *fsutil_suite(void)
{
	Suite *s = suite_create("fsutil");
	TCase *tc = tcase_create("fsutil");

	tcase_add_test(tc, test_first_line);
	tcase_add_test(tc, test_process_start_time);
	tcase_add_test(tc, test_trim_slashes);
	suite_add_tcase(s, tc);

	tc = tcase_create("tree_walk");
	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_test(tc, test_count_entries);
	tcase_add_test(tc, test_tree_walk_visits);
	tcase_add_test(tc, test_tree_walk_remove);
	tcase_add_test(tc, test_tree_walk_symlink_root);
	tcase_add_test(tc, test_tree_walk_bad_paths);
	tcase_add_test(tc, test_tree_walk_relative);
	tcase_add_test(tc, test_tree_walk_depth);
	tcase_add_test(tc, test_tree_walk_at);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testdir_run("fsutil", fsutil_suite());
}
