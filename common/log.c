#include "log.h"

#include "clock.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *program = "etcd-hooks";
static const char *termination_log;
static bool debug_enabled;

static const char *const level_names[] = {
        [LOG_DEBUG] = "debug", [LOG_INFO] = "info",   [LOG_WARNING] = "warning",
        [LOG_ERROR] = "error", [LOG_FATAL] = "error",
};

void log_init(const char *prog, const char *termination, bool debug)
{
	program = prog;
	termination_log = termination;
	debug_enabled = debug;
}

void log_no_termination(void)
{
	termination_log = NULL;
}

const char *log_program(void)
{
	return program;
}

/* Kubernetes shows this file's content in `kubectl describe pod`; write it only when the
 * kubelet made it, never create it. */
static void write_termination_log(const char *line)
{
	int fd;

	if (!termination_log)
		return;
	fd = open(termination_log, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	if (write(fd, line, strlen(line)) < 0) {
		/* Best effort: the line is on stderr already. */
	}
	close(fd);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	if (level == LOG_DEBUG && !debug_enabled)
		return;
	n = snprintf(line, sizeof(line), "%s: %s: ", program, level_names[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	fputs(line, stderr);
	fflush(stderr);
	if (level == LOG_FATAL)
		write_termination_log(line);
}

void log_progress_start(struct log_progress *p, uint64_t interval_ms)
{
	p->start_ms = clock_now_ms();
	p->interval_ms = interval_ms;
	p->next_ms = p->start_ms + interval_ms;
}

bool log_progress_due(struct log_progress *p)
{
	uint64_t now = clock_now_ms();

	if (now < p->next_ms)
		return false;
	p->next_ms = now + p->interval_ms;
	return true;
}

double log_progress_elapsed(const struct log_progress *p)
{
	return (double)(clock_now_ms() - p->start_ms) / 1000.0;
}

void log_progress_msg(const struct log_progress *p, const struct deadline *run, const char *fmt,
                      ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_INFO, "%s waited=%.0fs deadline=%.0fs left=%.0fs", msg, log_progress_elapsed(p),
	        (double)(run->end_ms - run->start_ms) / 1000.0,
	        (double)deadline_left_ms(run) / 1000.0);
}
