#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int fsutil_count_entries(const char *dir, size_t *ret)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	*ret = n;
	return 0;
}

/* A data dir is a few levels deep; anything much deeper is not etcd's. */
#define TREE_MAX_DEPTH 128

struct tree_walk {
	unsigned flags;
	dev_t dev; /* the filesystem of the walked path: the walk stays on it */
	fsutil_tree_fn *fn;
	void *ctx;
	struct error *err;
	int r;           /* the first error */
	bool bare;       /* a relative path: its first name gets no leading '/' */
	char path[4096]; /* the entry being visited */
};

/* Keep the first error: "<what> '<path>': <strerror>". */
static void walk_error(struct tree_walk *w, int code, const char *what)
{
	if (w->r == 0)
		w->r = error_set(w->err, code, "%s '%s': %s", what, w->path, strerror(-code));
}

/* Visit (and remove) name under the directory parent, children first; w->path names the
 * parent on entry and on return. */
static void walk_at(struct tree_walk *w, int parent, const char *name, unsigned depth)
{
	size_t len = strlen(w->path);
	struct stat st, fst;
	struct dirent *de;
	DIR *d;
	int fd;

	if (len + 1 + strlen(name) >= sizeof(w->path)) {
		walk_error(w, -ENAMETOOLONG, "cannot walk below");
		return;
	}
	snprintf(w->path + len, sizeof(w->path) - len, "%s%s", len == 0 && w->bare ? "" : "/",
	         name);
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		walk_error(w, -errno, "cannot read");
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		/* Another filesystem mounted below (a bind mount, a volume): not ours to walk. */
		if (st.st_dev != w->dev) {
			if (w->r == 0)
				w->r = error_set(w->err, -EXDEV,
				                 "'%s' is a mount point: left as it is", w->path);
			goto out;
		}
		if (depth >= TREE_MAX_DEPTH) {
			if (w->r == 0)
				w->r = error_set(w->err, -ELOOP,
				                 "'%s' is nested too deep: left as it is", w->path);
			goto out;
		}
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			walk_error(w, -errno, "cannot open");
			goto out;
		}
		/* Still the directory we looked at, not one swapped in since. */
		if (fstat(fd, &fst) < 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
			close(fd);
			if (w->r == 0)
				w->r = error_set(w->err, -EAGAIN,
				                 "'%s' changed while it was walked", w->path);
			goto out;
		}
		d = fdopendir(fd);
		if (!d) {
			int e = errno;

			close(fd);
			walk_error(w, -e, "cannot list");
			goto out;
		}
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				walk_at(w, dirfd(d), de->d_name, depth + 1);
		closedir(d);
		if ((w->flags & FSUTIL_TREE_REMOVE) && unlinkat(parent, name, AT_REMOVEDIR) < 0) {
			walk_error(w, -errno, "cannot remove");
			goto out;
		}
	} else if ((w->flags & FSUTIL_TREE_REMOVE) && unlinkat(parent, name, 0) < 0) {
		walk_error(w, -errno, "cannot remove");
		goto out;
	}
	if (w->fn)
		w->fn(w->path, &st, w->ctx);
out:
	w->path[len] = '\0';
}

int fsutil_tree_walk(const char *path, unsigned flags, fsutil_tree_fn *fn, void *ctx,
                     struct error *err)
{
	struct tree_walk w = {.flags = flags, .fn = fn, .ctx = ctx, .err = err};
	char *copy = strdup(path), *slash, *name;
	const char *parent_path;
	struct stat st;
	int parent = -1, r = 0;

	if (!copy)
		return error_set(err, -ENOMEM, "out of memory");
	fsutil_trim_slashes(copy);
	slash = strrchr(copy, '/');
	name = slash ? slash + 1 : copy;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		r = error_set(err, -EINVAL, "'%s' names no entry to walk", path);
		goto out;
	}
	if (slash == copy) {
		parent_path = "/";
	} else if (slash) {
		*slash = '\0';
		parent_path = copy;
		snprintf(w.path, sizeof(w.path), "%s", copy);
	} else {
		parent_path = ".";
		w.bare = true;
	}
	/* Symlinks above the walked path are the user's layout (/var/run -> /run): followed. */
	parent = open(parent_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0) {
		r = error_set(err, -errno, "cannot open '%s': %s", parent_path, strerror(errno));
		goto out;
	}
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = error_set(err, -errno, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	w.dev = st.st_dev;
	walk_at(&w, parent, name, 0);
	r = w.r;
out:
	if (parent >= 0)
		close(parent);
	free(copy);
	return r;
}

int fsutil_tree_walk_at(int parent, const char *name, const char *parent_path, unsigned flags,
                        fsutil_tree_fn *fn, void *ctx, struct error *err)
{
	struct tree_walk w = {.flags = flags, .fn = fn, .ctx = ctx, .err = err};
	struct stat st;

	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return error_set(err, -EINVAL, "'%s' names no entry to walk", name);
	/* The walk stays on the parent's file system: an entry that is a mount point itself
	 * is left whole. */
	if (fstat(parent, &st) < 0)
		return error_set(err, -errno, "cannot read '%s': %s", parent_path, strerror(errno));
	w.dev = st.st_dev;
	snprintf(w.path, sizeof(w.path), "%s", parent_path);
	walk_at(&w, parent, name, 0);
	return w.r;
}

void fsutil_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}
