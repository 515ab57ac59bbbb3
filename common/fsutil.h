/* Small file-system helpers that several modules need. Includes nothing else from
 * common/. */
#pragma once

/* The first line of the file dir/name, without its line end, malloc'd; NULL when the file
 * cannot be read, is empty or its first line is. Reads at most 8 KiB. */
char *fsutil_first_line(const char *dir, const char *name);
