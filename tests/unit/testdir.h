/* A scratch folder for the unit tests that touch files: one top folder per executable, a
 * fresh folder `tmp` in it for each test (a checked fixture), and paths relative to it.
 * Header-only: each test executable includes it once. */
#pragma once

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char top[64];
static char tmp[128];

/* The fixture: a fresh tmp in top. */
static inline void make_tmp(void)
{
	snprintf(tmp, sizeof(tmp), "%s/test-XXXXXX", top);
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static inline int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* tmp/rel, into buf */
static inline const char *at(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", tmp, rel);
	return buf;
}
#define AT(rel) at((char[4096]){0}, 4096, (rel))

static inline void make_dir(const char *rel)
{
	ck_assert_msg(mkdir(AT(rel), 0700) == 0, "mkdir %s: %s", rel, strerror(errno));
}

static inline void make_file(const char *rel, const char *content)
{
	FILE *f = fopen(AT(rel), "w");

	ck_assert_msg(f != NULL, "create %s: %s", rel, strerror(errno));
	fputs(content, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Run the suite with top made under /tmp (named after `name`) and removed afterwards.
 * Returns main's exit status. */
static inline int testdir_run(const char *name, Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	int failures;

	snprintf(top, sizeof(top), "/tmp/test-%s-XXXXXX", name);
	if (!mkdtemp(top)) {
		fprintf(stderr, "test-%s: mkdtemp: %s\n", name, strerror(errno));
		return 1;
	}
	srunner_run_all(sr, CK_ENV);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(top, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return failures ? 1 : 0;
}
