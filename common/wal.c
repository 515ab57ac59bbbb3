#include "wal.h"

#include "parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	WAL_METADATA_TYPE = 1,
	WAL_ENTRY_TYPE = 2,
	WAL_STATE_TYPE = 3,
	WAL_CRC_TYPE = 4,
	WAL_SNAPSHOT_TYPE = 5,
	/* wal_read_state() reads a segment this much at a time. */
	WAL_CHUNK_BYTES = 256 * 1024,
	/* What we read of the first file: the metadata record comes within the first few
	 * hundred bytes. */
	WAL_HEAD_BYTES = 64 * 1024,
	/* No metadata record is this large; a bigger length means this is not a WAL. */
	WAL_MAX_RECORD = 16 * 1024 * 1024,
};

/* A protobuf varint at *p (< end); advances *p. Returns 0 or -EBADMSG. */
static int varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (*p >= end)
			return -EBADMSG;
		b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -EBADMSG;
}

/* Walk the fields of a protobuf message. For each varint field, set vals[number] (for
 * numbers < n_vals); for a length-delimited field number `bytes_field`, return its span. */
static int fields(const uint8_t *p, const uint8_t *end, uint64_t *vals, size_t n_vals,
                  unsigned bytes_field, const uint8_t **ret_bytes, size_t *ret_len)
{
	while (p < end) {
		uint64_t key, v;
		unsigned number, wire;

		if (varint(&p, end, &key) < 0)
			return -EBADMSG;
		number = (unsigned)(key >> 3);
		wire = (unsigned)(key & 7);
		switch (wire) {
		case 0:
			if (varint(&p, end, &v) < 0)
				return -EBADMSG;
			if (number < n_vals)
				vals[number] = v;
			break;
		case 2:
			if (varint(&p, end, &v) < 0 || v > (uint64_t)(end - p))
				return -EBADMSG;
			if (number == bytes_field && ret_bytes) {
				*ret_bytes = p;
				*ret_len = (size_t)v;
			}
			p += v;
			break;
		case 1:
		case 5:
			if ((size_t)(end - p) < (wire == 1 ? 8u : 4u))
				return -EBADMSG;
			p += wire == 1 ? 8 : 4;
			break;
		default:
			return -EBADMSG;
		}
	}
	return 0;
}

int wal_parse_metadata(const uint8_t *buf, size_t len, struct wal_metadata *ret, struct error *err)
{
	size_t off = 0;

	while (len - off >= 8) {
		uint64_t field = 0, type_crc_data[4] = {0}, meta[3] = {0};
		const uint8_t *data = NULL;
		size_t size, pad = 0, data_len = 0;

		for (int i = 7; i >= 0; i--)
			field = (field << 8) | buf[off + (size_t)i];
		size = (size_t)(field & ~(UINT64_C(0xff) << 56));
		if (field >> 63)
			pad = (size_t)((field >> 56) & 0x7);
		off += 8;
		if (size == 0 && pad == 0)
			return error_set(err, -ENODATA, "the WAL ends before its metadata record");
		if (size > WAL_MAX_RECORD || size + pad > len - off)
			return error_set(err, -EBADMSG,
			                 "WAL frame at byte %zu is not a record (size %zu)",
			                 off - 8, size);
		if (fields(buf + off, buf + off + size, type_crc_data, 4, 3, &data, &data_len) < 0)
			return error_set(err, -EBADMSG, "WAL record at byte %zu is not a protobuf",
			                 off - 8);
		off += size + pad;
		if (type_crc_data[1] == WAL_CRC_TYPE)
			continue;
		if (type_crc_data[1] != WAL_METADATA_TYPE)
			return error_set(err, -ENODATA,
			                 "the WAL has no metadata record before record type %llu",
			                 (unsigned long long)type_crc_data[1]);
		if (!data || fields(data, data + data_len, meta, 3, 0, NULL, NULL) < 0 ||
		    !meta[1] || !meta[2])
			return error_set(
			        err, -EBADMSG,
			        "the WAL's metadata record has no member ID or cluster ID");
		ret->member_id = meta[1];
		ret->cluster_id = meta[2];
		return 0;
	}
	return error_set(err, -ENODATA, "the WAL ends before its metadata record");
}

/* One frame at buf (len bytes available): *ret_size the record, *ret_total the frame with
 * its length field and padding. Returns 1 for a frame, 0 at the zero tail, -EAGAIN when the
 * frame goes past len, -EBADMSG for a length that no record has. */
static int frame_at(const uint8_t *buf, size_t len, size_t *ret_size, size_t *ret_total)
{
	uint64_t field = 0;
	size_t size, pad = 0;

	if (len < 8)
		return -EAGAIN;
	for (int i = 7; i >= 0; i--)
		field = (field << 8) | buf[i];
	size = (size_t)(field & ~(UINT64_C(0xff) << 56));
	if (field >> 63)
		pad = (size_t)((field >> 56) & 0x7);
	if (size == 0 && pad == 0)
		return 0;
	if (size > WAL_MAX_RECORD)
		return -EBADMSG;
	if (size + pad > len - 8)
		return -EAGAIN;
	*ret_size = size;
	*ret_total = 8 + size + pad;
	return 1;
}

/* Fold one record into st. Returns 0, or -EBADMSG when it is not a record. */
static int state_record(const uint8_t *rec, size_t size, struct wal_state *st)
{
	uint64_t type_crc_data[4] = {0}, v[4] = {0};
	const uint8_t *data = NULL;
	size_t data_len = 0;

	if (fields(rec, rec + size, type_crc_data, 4, 3, &data, &data_len) < 0)
		return -EBADMSG;
	if (!data)
		return 0;
	switch (type_crc_data[1]) {
	case WAL_STATE_TYPE:
		if (fields(data, data + data_len, v, 4, 0, NULL, NULL) < 0)
			return -EBADMSG;
		st->term = v[1];
		st->commit = v[3];
		break;
	case WAL_ENTRY_TYPE:
		if (fields(data, data + data_len, v, 4, 0, NULL, NULL) < 0)
			return -EBADMSG;
		if (v[3] > st->last_index)
			st->last_index = v[3];
		break;
	case WAL_SNAPSHOT_TYPE:
		if (fields(data, data + data_len, v, 2, 0, NULL, NULL) < 0)
			return -EBADMSG;
		if (v[1] > st->snapshot_index)
			st->snapshot_index = v[1];
		break;
	}
	return 0;
}

/* Fold the whole frames of buf into st; *ret_used the bytes consumed, *ret_end whether the
 * segment's records ended (zero tail, or a frame that cannot be a record after the first). */
static int state_frames(const uint8_t *buf, size_t len, bool first, struct wal_state *st,
                        size_t *ret_used, bool *ret_end, struct error *err)
{
	size_t off = 0;

	*ret_end = false;
	for (;;) {
		size_t size = 0, total = 0;
		int r = frame_at(buf + off, len - off, &size, &total);

		if (r == -EAGAIN)
			break;
		if (r == 1 && state_record(buf + off + 8, size, st) < 0)
			r = -EBADMSG;
		if (r < 0 && first && off == 0)
			return error_set(err, -EBADMSG, "the first WAL frame is not a record");
		if (r <= 0) {
			/* The zero tail, or a torn frame from a crash: the records end here. */
			*ret_end = true;
			break;
		}
		off += total;
		first = false;
	}
	*ret_used = off;
	return 0;
}

int wal_parse_state(const uint8_t *buf, size_t len, struct wal_state *ret, struct error *err)
{
	struct wal_state st = {0};
	size_t used;
	bool end;
	int r = state_frames(buf, len, true, &st, &used, &end, err);

	if (r == 0)
		*ret = st;
	return r;
}

/* The name of the first (or last) *.wal file in dir, by name: they are sequence-index
 * names, so this is their order. */
static int pick_wal(const char *dir, bool last, char *ret, size_t size)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	char *best = NULL;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!parse_wal_name(de->d_name))
			continue;
		if (!best || (strcmp(de->d_name, best) < 0) != last) {
			free(best);
			best = strdup(de->d_name);
			if (!best) {
				closedir(d);
				return -ENOMEM;
			}
		}
	}
	closedir(d);
	if (!best)
		return -ENOENT;
	snprintf(ret, size, "%s/%s", dir, best);
	free(best);
	return 0;
}

/* Open a WAL segment for reading: a regular file, never through a symlink or a FIFO.
 * Returns the descriptor, or a negative errno with the reason in err; none of them says
 * what the data holds (-EIO for what is not a regular file). */
static int open_segment(const char *path, struct error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);

	if (fd < 0)
		return error_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(err, -EIO, "cannot read '%s': not a regular file", path);
	}
	return fd;
}

int wal_read_metadata(const char *data_dir, struct wal_metadata *ret, struct error *err)
{
	char dir[4096], path[4096 + 256];
	uint8_t *buf = NULL;
	ssize_t n = 0;
	int fd, r;

	snprintf(dir, sizeof(dir), "%s/member/wal", data_dir);
	r = pick_wal(dir, false, path, sizeof(path));
	if (r < 0)
		return error_set(err, r, "no WAL file in '%s': %s", dir, strerror(-r));
	fd = open_segment(path, err);
	if (fd < 0)
		return fd;
	buf = malloc(WAL_HEAD_BYTES);
	if (!buf) {
		close(fd);
		return error_set(err, -ENOMEM, "out of memory");
	}
	/* the first WAL_HEAD_BYTES, or the whole file when it is shorter */
	while ((size_t)n < WAL_HEAD_BYTES) {
		ssize_t got = read(fd, buf + n, WAL_HEAD_BYTES - (size_t)n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = error_set(err, -EIO, "cannot read '%s': %s", path, strerror(errno));
			close(fd);
			free(buf);
			return r;
		}
		if (got == 0)
			break;
		n += got;
	}
	close(fd);
	r = wal_parse_metadata(buf, (size_t)n, ret, err);
	if (r < 0)
		error_prefix(err, "'%s': ", path);
	free(buf);
	return r;
}

int wal_read_state(const char *data_dir, struct wal_state *ret, struct error *err)
{
	char dir[4096], path[4096 + 256];
	struct wal_state st = {0};
	size_t len = 0, cap = WAL_CHUNK_BYTES;
	uint8_t *buf = NULL;
	bool first = true, end = false;
	int fd = -1, r;

	snprintf(dir, sizeof(dir), "%s/member/wal", data_dir);
	r = pick_wal(dir, true, path, sizeof(path));
	if (r < 0)
		return error_set(err, r, "no WAL file in '%s': %s", dir, strerror(-r));
	fd = open_segment(path, err);
	if (fd < 0)
		return fd;
	buf = malloc(cap);
	if (!buf) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	while (!end) {
		size_t used = 0;
		ssize_t n;

		/* A record larger than the buffer: grow it, never beyond one record's limit. */
		if (len == cap) {
			uint8_t *bigger = cap < WAL_MAX_RECORD + 16 ? realloc(buf, cap * 2) : NULL;

			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = error_set(err, -EIO, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
		r = state_frames(buf, len, first, &st, &used, &end, err);
		if (r < 0) {
			error_prefix(err, "'%s': ", path);
			goto out;
		}
		if (used)
			first = false;
		memmove(buf, buf + used, len - used);
		len -= used;
		if (n == 0)
			break;
	}
	*ret = st;
	r = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}
