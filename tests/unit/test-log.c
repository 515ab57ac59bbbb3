/* Unit tests of common/log: the line grammar on stderr and the termination log, which is
 * written on a fatal error only when it exists (the kubelet makes it; we never do). */
#include "testdir.h"
#include "cli.h"
#include "log.h"
#include "settings.h"

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One temp dir for the run, made and removed by main() whatever the tests do, and one
 * fresh dir in it for each test. */
static char dir[128];
static char stderr_path[160];
static int saved_stderr = -1;

/* A temp dir, and stderr redirected into a file in it. */
static void setup(void)
{
	int fd;

	snprintf(dir, sizeof(dir), "%s/test-XXXXXX", top);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(stderr_path, sizeof(stderr_path), "%s/stderr", dir);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static void teardown(void)
{
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	log_init("etcd-hooks", NULL, false);
}

/* The whole content of a file, into buf; false when it does not exist. */
static bool read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return true;
}

static void read_stderr(char *buf, size_t size)
{
	fflush(stderr);
	ck_assert(read_file(stderr_path, buf, size));
}

static const char *termination_log(void)
{
	static char path[160];

	snprintf(path, sizeof(path), "%s/termination-log", dir);
	return path;
}

static void create_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	fclose(f);
}

START_TEST(test_grammar)
{
	char buf[4096];

	log_init("etcd-join", NULL, false);
	ck_assert_str_eq(log_program(), "etcd-join");
	log_msg(LOG_ERROR, "cannot list members at '%s': %s", "http://x:2379",
	        "connection refused");
	log_msg(LOG_WARNING, "slow");
	log_msg(LOG_INFO, "member %d added", 4);
	log_msg(LOG_FATAL, "gave up");
	read_stderr(buf, sizeof(buf));
	ck_assert_str_eq(buf, "etcd-join: error: cannot list members at 'http://x:2379': "
	                      "connection refused\n"
	                      "etcd-join: warning: slow\n"
	                      "etcd-join: info: member 4 added\n"
	                      "etcd-join: error: gave up\n");
}
END_TEST

/* Every progress line ends with the wait so far, the run's deadline and the time left. */
START_TEST(test_progress_line)
{
	struct log_progress p;
	struct deadline run;
	char buf[4096];

	log_init("etcd-join", NULL, false);
	deadline_init(&run, 300000);
	log_progress_start(&p, 5000);
	log_progress_msg(&p, &run, "waiting for %s: %s", "the add", "not yet");
	read_stderr(buf, sizeof(buf));
	/* a loaded machine may take a second between the calls */
	ck_assert_msg(strncmp(buf, "etcd-join: info: waiting for the add: not yet waited=",
	                      strlen("etcd-join: info: waiting for the add: not yet waited=")) == 0,
	              "%s", buf);
	ck_assert_msg(strstr(buf, "s deadline=300s left=") && buf[strlen(buf) - 1] == '\n' &&
	                      buf[strlen(buf) - 2] == 's',
	              "%s", buf);
}
END_TEST

START_TEST(test_debug)
{
	char buf[4096];

	log_init("etcd-leave", NULL, false);
	log_msg(LOG_DEBUG, "hidden");
	log_init("etcd-leave", NULL, true);
	log_msg(LOG_DEBUG, "shown");
	read_stderr(buf, sizeof(buf));
	ck_assert_str_eq(buf, "etcd-leave: debug: shown\n");
}
END_TEST

START_TEST(test_long_message)
{
	char long_msg[5000], buf[8192];

	memset(long_msg, 'x', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	log_init("etcd-join", NULL, false);
	log_msg(LOG_ERROR, "%s", long_msg);
	log_msg(LOG_INFO, "next");
	read_stderr(buf, sizeof(buf));
	/* cut, but still one line, and the next line starts on its own */
	ck_assert_ptr_nonnull(strstr(buf, "x\netcd-join: info: next\n"));
	ck_assert_uint_eq(strncmp(buf, "etcd-join: error: xxx", 21), 0);
}
END_TEST

START_TEST(test_termination_log_written)
{
	char buf[4096];

	create_file(termination_log(), "an older, longer reason from a previous run\n");
	log_init("etcd-join", termination_log(), false);
	log_msg(LOG_ERROR, "not fatal");
	ck_assert(read_file(termination_log(), buf, sizeof(buf)));
	ck_assert_str_eq(buf, "an older, longer reason from a previous run\n");
	log_msg(LOG_FATAL, "data dir '%s' is in use", "/var/run/etcd/default.etcd");
	ck_assert(read_file(termination_log(), buf, sizeof(buf)));
	ck_assert_str_eq(buf,
	                 "etcd-join: error: data dir '/var/run/etcd/default.etcd' is in use\n");
	read_stderr(buf, sizeof(buf));
	ck_assert_str_eq(buf,
	                 "etcd-join: error: not fatal\n"
	                 "etcd-join: error: data dir '/var/run/etcd/default.etcd' is in use\n");
}
END_TEST

START_TEST(test_termination_log_not_created)
{
	log_init("etcd-join", termination_log(), false);
	log_msg(LOG_FATAL, "gave up");
	ck_assert_int_eq(access(termination_log(), F_OK), -1);
}
END_TEST

/* A bad flag in the manifest's command is the container's reason too. */
START_TEST(test_usage_error_to_termination_log)
{
	char buf[4096];

	create_file(termination_log(), "old\n");
	log_init("etcd-join", termination_log(), false);
	ck_assert_int_eq(cli_usage_error("etcd-join", "unknown option '%s'", "--x"), 2);
	ck_assert(read_file(termination_log(), buf, sizeof(buf)));
	ck_assert_str_eq(buf, "etcd-join: error: unknown option '--x'\n");
	read_stderr(buf, sizeof(buf));
	ck_assert_str_eq(buf, "etcd-join: error: unknown option '--x'\nTry 'etcd-join --help'.\n");
}
END_TEST

/* cli_parse() on argv; the termination log must keep "old". */
static void assert_not_written(const char *program, const char *const *by_hand, char **argv,
                               int argc)
{
	struct settings s;
	char buf[64];
	int first;

	create_file(termination_log(), "old\n");
	log_init(program, termination_log(), false);
	settings_init(&s);
	ck_assert_int_eq(cli_parse(&(struct cli){.program = program, .by_hand = by_hand}, &s, argc,
	                           argv, &first),
	                 2);
	settings_free(&s);
	log_msg(LOG_FATAL, "a later error of the same run");
	ck_assert(read_file(termination_log(), buf, sizeof(buf)));
	ck_assert_str_eq(buf, "old\n");
}

/* A dry run, or a mode run by hand, never writes it: the error would take the place of
 * the container's real termination message. */
START_TEST(test_no_termination_log_by_hand)
{
	static const char *const by_hand[] = {"status", "restore", NULL};

	assert_not_written("etcd-join", NULL, (char *[]){"etcd-join", "--bad", "--dry-run", NULL},
	                   3);
	assert_not_written("etcd-clean", by_hand,
	                   (char *[]){"etcd-clean", "--status", "--bad", NULL}, 3);
	assert_not_written("etcd-clean", by_hand,
	                   (char *[]){"etcd-clean", "--restore=x", "--bad", NULL}, 3);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_grammar);
	tcase_add_test(tc, test_progress_line);
	tcase_add_test(tc, test_debug);
	tcase_add_test(tc, test_long_message);
	tcase_add_test(tc, test_termination_log_written);
	tcase_add_test(tc, test_termination_log_not_created);
	tcase_add_test(tc, test_usage_error_to_termination_log);
	tcase_add_test(tc, test_no_termination_log_by_hand);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testdir_run("log", log_suite());
}
