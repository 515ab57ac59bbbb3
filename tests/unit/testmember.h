/* Data dirs laid out as etcd lays them out, and checks of files, for the unit tests of the
 * modules that read or move data dirs (datadir, state, quarantine, fsutil). Header-only,
 * on testdir.h's scratch folder. */
#pragma once

#include "testdir.h"
#include "datadir.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define WAL_NAME "0000000000000000-0000000000000000.wal"

/* member/wal/<first segment> and member/snap/db, as etcd lays them out */
static inline void make_member(const char *wal_content, const char *db_content)
{
	make_dir("d");
	make_dir("d/member");
	make_dir("d/member/wal");
	make_dir("d/member/snap");
	if (wal_content)
		make_file("d/member/wal/" WAL_NAME, wal_content);
	if (db_content)
		make_file("d/member/snap/db", db_content);
}

static inline struct datadir_info inspect(const char *rel)
{
	struct datadir_info info;
	struct error err;

	error_clear(&err);
	ck_assert_msg(datadir_inspect(AT(rel), &info, &err) == 0, "%s: %s", rel, err.msg);
	ck_assert_msg(info.reason[0], "no reason given for %s", rel);
	return info;
}

/* The names in tmp/rel, sorted, joined by spaces. */
static inline void list_dir(const char *rel, char *buf, size_t size)
{
	struct dirent **names;
	int n = scandir(AT(rel), &names, NULL, alphasort);

	ck_assert_int_ge(n, 0);
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0)
			snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", buf[0] ? " " : "",
			         names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

static inline void assert_file(const char *rel, const char *content, mode_t mode)
{
	char buf[256] = {0};
	struct stat st;
	FILE *f;

	ck_assert_int_eq(stat(AT(rel), &st), 0);
	ck_assert_msg((st.st_mode & 07777) == mode, "%s has mode %o", rel, st.st_mode & 07777);
	f = fopen(AT(rel), "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_lt(fread(buf, 1, sizeof(buf) - 1, f), sizeof(buf) - 1);
	fclose(f);
	ck_assert_str_eq(buf, content);
}

/* The whole content of the file at an absolute path equals content. */
static inline void assert_content(const char *path, const char *content)
{
	char buf[1024] = {0};
	FILE *f = fopen(path, "r");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_uint_lt(fread(buf, 1, sizeof(buf) - 1, f), sizeof(buf) - 1);
	fclose(f);
	ck_assert_msg(strcmp(buf, content) == 0, "%s holds '%s', not '%s'", path, buf, content);
}
