/* common/fsutil: the first line of a file, a process's start time. */
#include "fsutil.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void make_dir(void)
{
	strcpy(dir, "/tmp/test-fsutil-XXXXXX");
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

	make_dir();
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

static Suite *fsutil_suite(void)
{
	Suite *s = suite_create("fsutil");
	TCase *tc = tcase_create("fsutil");

	tcase_add_test(tc, test_first_line);
	tcase_add_test(tc, test_process_start_time);
	tcase_add_test(tc, test_trim_slashes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fsutil_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
