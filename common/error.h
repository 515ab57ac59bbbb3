/* An error as library code reports it: a negative errno plus a human sentence, and for
 * etcd calls the HTTP status and the gRPC code from the error body. common/ fills these;
 * only programs print them. */
#pragma once

#include <stdarg.h>

#define ERROR_MSG_MAX 512

struct error {
	int code;         /* negative errno, 0 when no error */
	long http_status; /* HTTP status of the failed call, 0 if none */
	int etcd_code;    /* gRPC code from an etcd error body, -1 if none */
	char msg[ERROR_MSG_MAX];
};

/* Clear err (may be NULL). */
void error_clear(struct error *err);

/* Set err (may be NULL) to code and a formatted message; returns code so callers can
 * write `return error_set(err, -EINVAL, "...")`. */
int error_set(struct error *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Prefix the existing message of err with a formatted context ("cannot list members: ").
 * Returns err->code (or code 0 when err is NULL). */
int error_prefix(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
