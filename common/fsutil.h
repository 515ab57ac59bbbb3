/* Small file-system helpers that several modules need. Includes nothing else from
 * common/. */
#pragma once

/* The first line of the file dir/name, without its line end, malloc'd in *ret. Reads at
 * most 8 KiB. Returns 0; -ENOENT when there is no such file (and the other open or read
 * errors as they are); -ENODATA when the file or its first line is empty; -ENOMEM. */
int fsutil_first_line(const char *dir, const char *name, char **ret);
