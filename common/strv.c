#include "strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int strv_push(struct strv *s, const char *str)
{
	char *copy;

	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		v[s->n] = NULL; /* NULL-terminated at every step, even if strdup() fails */
		s->v = v;
		s->cap = cap;
	}
	copy = strdup(str);
	if (!copy)
		return -ENOMEM;
	s->v[s->n] = copy;
	s->v[++s->n] = NULL;
	return 0;
}

static int compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **strv_take(struct strv *s, int sort)
{
	char **v = s->v ? s->v : calloc(1, sizeof(*v));
	size_t n = s->n;

	*s = (struct strv){0};
	if (v && sort)
		qsort(v, n, sizeof(*v), compare);
	return v;
}

void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
