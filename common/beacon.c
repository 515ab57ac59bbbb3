#include "beacon.h"

#include "clock.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A request line and headers larger than this are not ours to read: answer anyway. */
#define REQUEST_MAX 4096
/* How long one asker may take to send its request, and to take our answer. */
#define CLIENT_MS 300
/* How often the serving thread looks whether it must stop. */
#define STOP_POLL_MS 100

/* The answers come from a thread of their own: the main thread spends most of a probe
 * waiting on its own calls, and a peer probing at that moment must not time out on us. */
struct beacon {
	int fd;
	pthread_t thread;
	pthread_mutex_t lock; /* guards body */
	char *body;
	atomic_bool stop;
};

/* Write all of text to fd (non-blocking) within the deadline. */
static void write_all(int fd, const char *text, size_t len, const struct deadline *d)
{
	size_t off = 0;

	while (off < len && !deadline_passed(d)) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		ssize_t n;

		if (poll(&p, 1, (int)deadline_left_ms(d)) <= 0)
			return;
		n = send(fd, text + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return;
		if (n > 0)
			off += (size_t)n;
	}
}

/* One asker: read its request (up to the blank line), answer, close. */
static void answer(struct beacon *b, int fd)
{
	char req[REQUEST_MAX + 1], head[256], *body;
	struct deadline d;
	size_t len = 0;

	deadline_init(&d, CLIENT_MS);
	while (len < REQUEST_MAX && !deadline_passed(&d)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, (int)deadline_left_ms(&d)) <= 0)
			break;
		n = recv(fd, req + len, REQUEST_MAX - len, 0);
		if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
			break;
		if (n > 0)
			len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	pthread_mutex_lock(&b->lock);
	body = strdup(b->body ? b->body : "{\"etcd-hooks\":{}}");
	pthread_mutex_unlock(&b->lock);
	if (body) {
		snprintf(head, sizeof(head),
		         "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
		         "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		         strlen(body));
		write_all(fd, head, strlen(head), &d);
		write_all(fd, body, strlen(body), &d);
	}
	free(body);
	close(fd);
}

static void *serve(void *arg)
{
	struct beacon *b = arg;
	sigset_t all;

	/* Stop signals are the main thread's: its sleeps must see them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!b->stop) {
		struct pollfd p = {.fd = b->fd, .events = POLLIN};
		int fd;

		if (poll(&p, 1, STOP_POLL_MS) <= 0)
			continue;
		fd = accept4(b->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			answer(b, fd);
	}
	return NULL;
}

int beacon_open(unsigned port, struct beacon **ret, struct error *err)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct beacon *b = calloc(1, sizeof(*b));
	int one = 1, e;

	if (!b)
		return error_set(err, -ENOMEM, "out of memory");
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	b->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b->fd < 0 || setsockopt(b->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(b->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(b->fd, 16) < 0) {
		e = errno;
		goto fail;
	}
	pthread_mutex_init(&b->lock, NULL);
	e = pthread_create(&b->thread, NULL, serve, b);
	if (e) {
		pthread_mutex_destroy(&b->lock);
		goto fail;
	}
	*ret = b;
	return 0;
fail:
	if (b->fd >= 0)
		close(b->fd);
	free(b);
	return error_set(err, -e, "cannot answer on port %u: %s", port, strerror(e));
}

unsigned beacon_port(const struct beacon *b)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(b->fd, (struct sockaddr *)&a, &len) < 0)
		return 0;
	return ntohs(a.sin_port);
}

void beacon_close(struct beacon *b)
{
	if (!b)
		return;
	b->stop = true;
	pthread_join(b->thread, NULL);
	close(b->fd);
	pthread_mutex_destroy(&b->lock);
	free(b->body);
	free(b);
}

void beacon_set_body(struct beacon *b, const char *json)
{
	char *copy, *old;

	if (!b || !(copy = strdup(json)))
		return;
	pthread_mutex_lock(&b->lock);
	old = b->body;
	b->body = copy;
	pthread_mutex_unlock(&b->lock);
	free(old);
}
