/* A growing NULL-terminated vector of strings, the one of common/. Includes nothing else
 * from common/. */
#pragma once

#include <stddef.h>

struct strv {
	char **v; /* NULL-terminated once anything was pushed, else NULL */
	size_t n;
	size_t cap;
};

/* Append a copy of str. Returns 0 or -ENOMEM (s is unchanged then). */
int strv_push(struct strv *s, const char *str);

/* The vector, NULL-terminated (an empty one allocated when nothing was pushed), sorted by
 * strcmp() when sort is true; s is empty afterwards. NULL when out of memory (s is freed
 * then). */
char **strv_take(struct strv *s, int sort);

/* Free a NULL-terminated vector and its strings (NULL is fine). */
void strv_free(char **v);
