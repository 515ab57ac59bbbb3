#include "clock.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

uint64_t clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void deadline_init(struct deadline *d, uint64_t timeout_ms)
{
	d->start_ms = clock_now_ms();
	d->end_ms = d->start_ms + timeout_ms;
}

void deadline_init_within(struct deadline *d, uint64_t timeout_ms, const struct deadline *run)
{
	uint64_t left = deadline_left_ms(run);

	deadline_init(d, left < timeout_ms ? left : timeout_ms);
}

uint64_t deadline_left_ms(const struct deadline *d)
{
	uint64_t now = clock_now_ms();

	return now >= d->end_ms ? 0 : d->end_ms - now;
}

bool deadline_passed(const struct deadline *d)
{
	return deadline_left_ms(d) == 0;
}

uint64_t deadline_elapsed_ms(const struct deadline *d)
{
	return clock_now_ms() - d->start_ms;
}

void backoff_init(struct backoff *b, uint64_t first_ms, uint64_t max_ms)
{
	b->next_ms = first_ms;
	b->max_ms = max_ms;
}

uint64_t backoff_next(struct backoff *b, const struct deadline *d)
{
	static unsigned seed;
	uint64_t base = b->next_ms, delay, left;
	long jitter;

	if (!seed)
		seed = (unsigned)clock_now_ms() ^ (unsigned)getpid();
	/* ±25% jitter so that pods started together do not retry in lockstep. */
	jitter = base >= 4 ? (long)(rand_r(&seed) % (base / 2 + 1)) - (long)(base / 4) : 0;
	delay = (uint64_t)((long)base + jitter);
	b->next_ms = base * 2 > b->max_ms ? b->max_ms : base * 2;
	left = d ? deadline_left_ms(d) : delay;
	return delay < left ? delay : left;
}

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

void clock_handle_stop_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

int clock_stop_signal(void)
{
	return stop_signal;
}

void clock_sleep_ms(uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
	                      .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (!stop_signal && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
