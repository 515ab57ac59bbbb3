/* Small file-system helpers that several modules need. Includes nothing else from
 * common/. */
#pragma once

#include <stddef.h>

/* The first line of the file dir/name, without its line end, malloc'd in *ret. Reads at
 * most 8 KiB. Returns 0; -ENOENT when there is no such file (and the other open or read
 * errors as they are); -ENODATA when the file or its first line is empty; -ENOMEM. */
int fsutil_first_line(const char *dir, const char *name, char **ret);

/* The start time of process pid ("self" for this one) in clock ticks since boot,
 * /proc/PID/stat field 22, as a decimal string into buf (size bytes): with the pid it
 * names one process and none before or after it. Returns 0, or a negative errno with buf
 * "" (-ENOENT: the process is gone). */
int fsutil_process_start_time(const char *pid, char *buf, size_t size);

/* Cut path's trailing slashes in place: "/var/run/etcd/default.etcd/" names the same dir
 * as without them; "/" stays "/". Returns the new length. */
size_t fsutil_trim_slashes(char *path);
