/* Monotonic time, deadlines and jittered exponential backoff. Every wait in etcd-hooks is
 * bounded by a struct deadline. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t clock_now_ms(void);

struct deadline {
	uint64_t start_ms;
	uint64_t end_ms;
};

/* A deadline `timeout_ms` from now. */
void deadline_init(struct deadline *d, uint64_t timeout_ms);
/* A deadline for one step of a run: timeout_ms from now, but never past run's end. */
void deadline_init_within(struct deadline *d, uint64_t timeout_ms, const struct deadline *run);
/* Milliseconds left, 0 once passed. */
uint64_t deadline_left_ms(const struct deadline *d);
bool deadline_passed(const struct deadline *d);
/* Milliseconds since deadline_init. */
uint64_t deadline_elapsed_ms(const struct deadline *d);

struct backoff {
	uint64_t next_ms; /* the next base delay */
	uint64_t max_ms;
};

/* Start at first_ms, double each step, never above max_ms. */
void backoff_init(struct backoff *b, uint64_t first_ms, uint64_t max_ms);
/* The next delay: the base delay with ±25% jitter, clipped to what is left of d. */
uint64_t backoff_next(struct backoff *b, const struct deadline *d);

/* Sleep ms milliseconds (restarted on EINTR), or less once a stop was requested. */
void clock_sleep_ms(uint64_t ms);

/* SIGTERM and SIGINT end every wait: install handlers (without SA_RESTART) that record the
 * request, so that clock_sleep_ms() returns early, HTTP calls abort (http.c) and callers see
 * clock_stop_signal() != 0 and leave without changing anything more. As PID 1 of a
 * container a process has no default action for these signals; this gives it one. */
void clock_handle_stop_signals(void);
/* The stop signal received (SIGTERM or SIGINT), or 0. */
int clock_stop_signal(void);
