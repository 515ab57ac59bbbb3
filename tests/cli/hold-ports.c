/* hold-ports: keep free loopback TCP ports for a test script, so that no other test gets them
 * while the script runs (tests/cli/lib.sh).
 *
 *   hold-ports [--shared] PID N
 *
 * Binds N sockets to 127.0.0.1, port 0 (the kernel picks ports nobody holds), prints the
 * ports on one line and returns; a child holds them, bound and never listening, until the
 * process PID (the script) exits. While a port is held, the kernel gives it to no other
 * bind(0) and no outgoing connection. With --shared the sockets have SO_REUSEADDR, so an etcd
 * (Go sets it on its listeners) can bind the ports; without, nothing can bind them and a
 * connection to one is refused: a port where surely no etcd answers. Exit 2 on a usage
 * error, 1 when the ports cannot be had.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_PORTS 16

static int usage(void)
{
	fprintf(stderr, "Usage: hold-ports [--shared] PID N\n");
	return 2;
}

/* A decimal number in [1, max], strictly. */
static bool parse_number(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > max)
		return false;
	*ret = v;
	return true;
}

static int hold_one(bool shared, unsigned *ret_port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if ((shared && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		close(fd);
		return -1;
	}
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

/* Until pid exits: a pidfd turns readable then (Linux 5.3); else ask every 100 ms. */
static void wait_for_exit(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd >= 0) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
		return;
	}
	while (kill(pid, 0) == 0 || errno == EPERM)
		usleep(100 * 1000);
}

int main(int argc, char **argv)
{
	unsigned long pid, n;
	unsigned ports[MAX_PORTS];
	bool shared = false;
	int null;
	pid_t child;

	if (argc > 1 && strcmp(argv[1], "--shared") == 0) {
		shared = true;
		argv++;
		argc--;
	}
	if (argc != 3 || !parse_number(argv[1], (unsigned long)INT_MAX, &pid) ||
	    !parse_number(argv[2], MAX_PORTS, &n))
		return usage();
	if (kill((pid_t)pid, 0) < 0 && errno != EPERM) {
		fprintf(stderr, "hold-ports: error: no process %lu\n", pid);
		return 1;
	}
	for (unsigned long i = 0; i < n; i++) {
		if (hold_one(shared, &ports[i]) < 0) {
			fprintf(stderr, "hold-ports: error: cannot bind a loopback port: %s\n",
			        strerror(errno));
			return 1;
		}
	}
	child = fork();
	if (child < 0) {
		fprintf(stderr, "hold-ports: error: fork: %s\n", strerror(errno));
		return 1;
	}
	if (child == 0) {
		/* Let go of the caller's stdout (a command substitution waits for its end) and
		 * of the test runner's pipes. */
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		wait_for_exit((pid_t)pid);
		return 0;
	}
	/* The child holds its own copies of the sockets: printed ports are held. */
	for (unsigned long i = 0; i < n; i++)
		printf("%s%u", i ? " " : "", ports[i]);
	printf("\n");
	return fflush(stdout) == 0 ? 0 : 1;
}
