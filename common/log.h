/* Logging: one line per event on stderr, `program: level: message key=value ...`.
 * The lowest module of common/: it includes nothing else from here. */
#pragma once

#include "clock.h"

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARNING,
	LOG_ERROR,
	/* An error that ends the program: also written to the termination log. */
	LOG_FATAL,
};

/* Set the program name printed first on every line, the termination-log path used by
 * LOG_FATAL (NULL: none; the file is written only when it already exists), and whether
 * LOG_DEBUG lines are printed. */
void log_init(const char *program, const char *termination_log, bool debug);

/* From now on LOG_FATAL writes no termination log: a dry run, whose error must not take
 * the place of the container's real termination message. */
void log_no_termination(void);

/* Print one line. Quote values that came from input ('%s'); never pass a password. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The program name given to log_init. */
const char *log_program(void);

/* Progress of a long wait: log_progress_due() is true once every `interval_ms`, so the
 * caller can log what it waits for, how long so far and the deadline. */
struct log_progress {
	uint64_t start_ms;
	uint64_t next_ms;
	uint64_t interval_ms;
};

void log_progress_start(struct log_progress *p, uint64_t interval_ms);
bool log_progress_due(struct log_progress *p);
/* Seconds since log_progress_start, for the message. */
double log_progress_elapsed(const struct log_progress *p);

/* The one progress line of every wait: the message, then how long it waited, the run's
 * deadline and the time left of it: "waiting for X: why waited=10s deadline=300s
 * left=290s" (info). */
void log_progress_msg(const struct log_progress *p, const struct deadline *run, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));
