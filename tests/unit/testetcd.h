/* A REAL etcd for the tests of the `etcd` suite: one member on loopback ports held for it,
 * data dir tmp/d and log tmp/etcd.log (testdir.h), started from ETCD_BIN and stopped by the
 * test. Header-only: each test executable includes it once, after testdir.h. */
#pragma once

#include "testdir.h"

#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The first WAL file of a new member, as etcd names it. */
#define TEST_ETCD_WAL "0000000000000000-0000000000000000.wal"

/* How often start_etcd tries other ports when etcd finds its own taken. */
#define ETCD_START_ATTEMPTS 5

/* The etcd of ETCD_BIN (set by meson); a missing one fails the test, it does not skip. */
static inline const char *test_etcd_bin(void)
{
	const char *bin = getenv("ETCD_BIN");

	ck_assert_msg(bin && access(bin, X_OK) == 0,
	              "no etcd at ETCD_BIN='%s': this test needs a real etcd 3.4; run "
	              "tests/fetch-etcd 3.4 (it fills $ETCD_CACHE, default /var/cache/etcd-hooks)",
	              bin ? bin : "");
	return bin;
}

/* A test's etcd: its process and the two loopback ports it listens on, held by this test. */
struct test_etcd {
	pid_t pid;
	int held[2]; /* client, peer */
	unsigned port[2];
};

/* A loopback port held by this process: bound, not listening, with SO_REUSEADDR. While it is
 * held the kernel gives it to no other bind(0) and no outgoing connection, and etcd (Go sets
 * SO_REUSEADDR on its listeners) can still bind it. Only a process that picked the same
 * number itself can take it first; then etcd exits and start_etcd takes other ports. */
static inline unsigned hold_port(int *ret_fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*ret_fd = fd;
	return ntohs(sa.sin_port);
}

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The end of etcd's log, for a failure message. */
static inline const char *etcd_log_tail(char *buf, size_t size)
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

/* etcd's log says it could not listen: one of its ports was taken. */
static inline bool etcd_log_addr_in_use(void)
{
	char line[1024];
	bool in_use = false;
	FILE *f = fopen(AT("etcd.log"), "r");

	while (f && !in_use && fgets(line, sizeof(line), f))
		in_use = strstr(line, "address already in use") != NULL;
	if (f)
		fclose(f);
	return in_use;
}

/* Fork and exec etcd on e's ports with data dir tmp/d and log tmp/etcd.log, named after this
 * test process, with the flags of `extra` (NULL-terminated, or NULL) besides; it dies with
 * this test process. */
static inline void spawn_etcd(const char *bin, struct test_etcd *e, const char *const *extra)
{
	char name[64], client[64], peer[64], cluster[128], data_dir[4096], log[4096];
	pid_t parent = getpid(), pid;

	snprintf(name, sizeof(name), "test-%ld-%u", (long)parent, e->port[0]);
	snprintf(client, sizeof(client), "http://127.0.0.1:%u", e->port[0]);
	snprintf(peer, sizeof(peer), "http://127.0.0.1:%u", e->port[1]);
	snprintf(cluster, sizeof(cluster), "%s=%s", name, peer);
	at(data_dir, sizeof(data_dir), "d");
	at(log, sizeof(log), "etcd.log");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* clang-format off */
		const char *base[] = {
			bin,
			"--name", name,
			"--data-dir", data_dir,
			"--listen-client-urls", client,
			"--advertise-client-urls", client,
			"--listen-peer-urls", peer,
			"--initial-advertise-peer-urls", peer,
			"--initial-cluster", cluster,
			"--initial-cluster-token", name,
			"--initial-cluster-state", "new",
		};
		/* clang-format on */
		const char *argv[64];
		size_t n = 0;
		char *const envp[] = {NULL};
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
			argv[n++] = base[i];
		for (size_t i = 0; extra && extra[i] && n + 1 < sizeof(argv) / sizeof(argv[0]); i++)
			argv[n++] = extra[i];
		argv[n] = NULL;
		execve(bin, (char *const *)argv, envp);
		_exit(127);
	}
	e->pid = pid;
}

/* Start etcd on loopback ports held for it, with data dir tmp/d, and return once its WAL is
 * at its place (etcd creates the WAL in member/wal.tmp, locks it and renames the dir: once
 * the WAL is there, it is locked). When etcd exits because a port was taken (by someone who
 * chose the number itself), try other ports. */
static inline void start_etcd(const char *bin, struct test_etcd *e, const char *const *extra)
{
	char log[600], wal[4096];
	int status = 0;

	at(wal, sizeof(wal), "d/member/wal/" TEST_ETCD_WAL);
	for (int attempt = 1;; attempt++) {
		double until = now() + 30;

		e->port[0] = hold_port(&e->held[0]);
		e->port[1] = hold_port(&e->held[1]);
		spawn_etcd(bin, e, extra);
		while (access(wal, F_OK) != 0 && waitpid(e->pid, &status, WNOHANG) == 0) {
			ck_assert_msg(now() < until, "no WAL after 30 s; etcd's log ends with:\n%s",
			              etcd_log_tail(log, sizeof(log)));
			usleep(20000);
		}
		if (access(wal, F_OK) == 0)
			return;
		ck_assert_msg(etcd_log_addr_in_use() && attempt < ETCD_START_ATTEMPTS,
		              "etcd exited (status 0x%x) before it wrote its WAL (attempt %d); "
		              "its log ends with:\n%s",
		              status, attempt, etcd_log_tail(log, sizeof(log)));
		fprintf(stderr, "test: etcd found port %u or %u taken; other ports\n", e->port[0],
		        e->port[1]);
		close(e->held[0]);
		close(e->held[1]);
		if (access(AT("d"), F_OK) == 0)
			ck_assert_int_eq(nftw(AT("d"), remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	}
}

static inline void stop_etcd(struct test_etcd *e)
{
	double until = now() + 10;
	int status;

	kill(e->pid, SIGTERM);
	while (waitpid(e->pid, &status, WNOHANG) == 0) {
		if (now() > until) {
			kill(e->pid, SIGKILL);
			waitpid(e->pid, &status, 0);
			break;
		}
		usleep(20000);
	}
	close(e->held[0]);
	close(e->held[1]);
}
