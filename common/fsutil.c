#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fsutil_first_line(const char *dir, const char *name, char **ret)
{
	char path[4096], buf[8192];
	ssize_t n;
	int fd;

	*ret = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0])
		return -ENODATA;
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

int fsutil_process_start_time(const char *pid, char *buf, size_t size)
{
	char path[64], stat[1024], *p;
	size_t n;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	/* after "pid (comm)", whose comm may hold spaces and ')': state is field 3, starttime
	 * field 22 */
	p = strrchr(stat, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || p[1] < '0' || p[1] > '9')
		return -EBADMSG;
	snprintf(buf, size, "%.*s", (int)strcspn(p + 1, " "), p + 1);
	return 0;
}

size_t fsutil_trim_slashes(char *path)
{
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	return len;
}
