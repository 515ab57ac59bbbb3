/* Unit tests of common/wal: the member ID and cluster ID read from the head of REAL WAL files
 * of etcd 3.3.25, 3.4.23 and 3.5.16 (TEST_DATA/wal-<series>.head, recorded with the IDs the
 * server reported by data/record-wal.sh), and from frames handcrafted here the way etcd's
 * encoder writes them, for every way a WAL head can be wrong. Bad input gives a clean error
 * (-ENODATA or -EBADMSG, a message, *ret untouched), never a crash. */
#include "testdir.h"
#include "wal.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAL_NAME "0000000000000000-0000000000000000.wal"

enum {
	TYPE_METADATA = 1,
	TYPE_ENTRY = 2,
	TYPE_STATE = 3,
	TYPE_CRC = 4,
	TYPE_SNAPSHOT = 5,
};

/* What a failed call must leave in *ret: nothing (outputs are written only on success). */
static const struct wal_metadata untouched = {UINT64_C(0x5e5e5e5e5e5e5e5e), 42};

/* ---- a temp dir per test ---- */

static void write_file(const char *rel, const uint8_t *data, size_t len)
{
	int fd = open(AT(rel), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_msg(fd >= 0, "create %s: %s", rel, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

/* d/member/wal, as etcd lays it out */
static void make_wal_dir(void)
{
	make_dir("d");
	make_dir("d/member");
	make_dir("d/member/wal");
}

/* ---- an encoder of WAL frames, as etcd's wal/encoder.go writes them ---- */

struct buf {
	uint8_t data[1024];
	size_t len;
};

static void put_byte(struct buf *b, uint8_t c)
{
	ck_assert_uint_lt(b->len, sizeof(b->data));
	b->data[b->len++] = c;
}

static void put_bytes(struct buf *b, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_byte(b, p[i]);
}

static void put_varint(struct buf *b, uint64_t v)
{
	while (v >= 0x80) {
		put_byte(b, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	put_byte(b, (uint8_t)v);
}

static void put_u64le(struct buf *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		put_byte(b, (uint8_t)(v >> (8 * i)));
}

/* encodeFrameSize: the record size in the low 56 bits; when the record is padded to 8
 * bytes, the top bit set and the pad count in the low 3 bits of the top byte. */
static uint64_t frame_size_field(size_t size, size_t *ret_pad)
{
	size_t pad = (8 - size % 8) % 8;
	uint64_t field = size;

	if (pad)
		field |= (uint64_t)(0x80 | pad) << 56;
	*ret_pad = pad;
	return field;
}

/* One frame holding rec: the length field, the record, the zero padding. */
static void put_frame(struct buf *b, const struct buf *rec)
{
	size_t pad;

	put_u64le(b, frame_size_field(rec->len, &pad));
	put_bytes(b, rec->data, rec->len);
	for (size_t i = 0; i < pad; i++)
		put_byte(b, 0);
}

/* walpb.Record {int64 type = 1; uint32 crc = 2; bytes data = 3}; data NULL: no field 3. */
static void record(struct buf *rec, uint64_t type, uint32_t crc, const struct buf *data)
{
	rec->len = 0;
	put_varint(rec, 1 << 3 | 0);
	put_varint(rec, type);
	put_varint(rec, 2 << 3 | 0);
	put_varint(rec, crc);
	if (data) {
		put_varint(rec, 3 << 3 | 2);
		put_varint(rec, data->len);
		put_bytes(rec, data->data, data->len);
	}
}

/* etcdserverpb.Metadata {uint64 NodeID = 1; uint64 ClusterID = 2}; 0 leaves a field out. */
static void metadata(struct buf *m, uint64_t node_id, uint64_t cluster_id)
{
	m->len = 0;
	if (node_id) {
		put_varint(m, 1 << 3 | 0);
		put_varint(m, node_id);
	}
	if (cluster_id) {
		put_varint(m, 2 << 3 | 0);
		put_varint(m, cluster_id);
	}
}

static void put_record(struct buf *b, uint64_t type, uint32_t crc, const struct buf *data)
{
	struct buf rec;

	record(&rec, type, crc, data);
	put_frame(b, &rec);
}

/* The head of a first WAL file as etcd writes it: a CRC record (crc 0), the metadata record,
 * a snapshot record. */
static void wal_head(struct buf *b, uint64_t node_id, uint64_t cluster_id)
{
	struct buf m, snap = {.data = {0x08, 0x00, 0x10, 0x00}, .len = 4};

	b->len = 0;
	put_record(b, TYPE_CRC, 0, NULL);
	metadata(&m, node_id, cluster_id);
	put_record(b, TYPE_METADATA, 0x9f8e3a25, &m);
	put_record(b, TYPE_SNAPSHOT, 0x16e82dc0, &snap);
}

/* ---- assertions ---- */

/* Parse a malloc'd copy of exactly len bytes, so that valgrind sees any read past the end. */
static int parse(const uint8_t *data, size_t len, struct wal_metadata *ret, struct error *err)
{
	uint8_t *copy = len ? malloc(len) : NULL;
	int r;

	if (len)
		ck_assert_ptr_nonnull(copy);
	if (len)
		memcpy(copy, data, len);
	*ret = untouched;
	error_clear(err);
	r = wal_parse_metadata(copy, len, ret, err);
	free(copy);
	return r;
}

static void assert_fails(const uint8_t *data, size_t len, int code, const char *what)
{
	struct wal_metadata md;
	struct error err;
	int r = parse(data, len, &md, &err);

	ck_assert_msg(r == code, "%s: got %d (%s), expected %d (%s); message '%s'", what, r,
	              strerror(-r), code, strerror(-code), err.msg);
	ck_assert_int_eq(err.code, code);
	ck_assert_msg(err.msg[0], "%s: no message", what);
	ck_assert_msg(md.member_id == untouched.member_id && md.cluster_id == untouched.cluster_id,
	              "%s: *ret written on failure", what);
	/* and without an error struct */
	ck_assert_int_eq(wal_parse_metadata(data, len, &md, NULL), code);
}

static void assert_ids(const uint8_t *data, size_t len, uint64_t member, uint64_t cluster)
{
	struct wal_metadata md;
	struct error err;
	int r = parse(data, len, &md, &err);

	ck_assert_msg(r == 0, "got %d: %s", r, err.msg);
	ck_assert_uint_eq(md.member_id, member);
	ck_assert_uint_eq(md.cluster_id, cluster);
}

/* ---- the recorded heads of real WAL files ---- */

static const char *const series[] = {"3.3", "3.4", "3.5"};

struct recorded {
	uint8_t head[8192];
	size_t len;
	uint64_t member_id, cluster_id;
};

static void data_path(char *buf, size_t size, const char *name)
{
	const char *dir = getenv("TEST_DATA");

	ck_assert_msg(dir != NULL, "TEST_DATA is not set (meson sets it)");
	snprintf(buf, size, "%s/%s", dir, name);
}

static void load_recorded(const char *s, struct recorded *ret)
{
	char path[4096], name[64], text[256];
	FILE *f;

	snprintf(name, sizeof(name), "wal-%s.head", s);
	data_path(path, sizeof(path), name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ret->len = fread(ret->head, 1, sizeof(ret->head), f);
	fclose(f);
	ck_assert_uint_ge(ret->len, 512);

	snprintf(name, sizeof(name), "wal-%s.ids", s);
	data_path(path, sizeof(path), name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
	fclose(f);
	ck_assert_msg(sscanf(text, "member_id=%" SCNu64 "\ncluster_id=%" SCNu64, &ret->member_id,
	                     &ret->cluster_id) == 2,
	              "%s: not 'member_id=N\\ncluster_id=N': '%s'", path, text);
	ck_assert(ret->member_id && ret->cluster_id);
}

START_TEST(test_recorded_parse)
{
	struct recorded rec;

	load_recorded(series[_i], &rec);
	assert_ids(rec.head, rec.len, rec.member_id, rec.cluster_id);
}
END_TEST

/* The recorded head in a data dir: as a short file, and as etcd's preallocated 64 MB segment
 * (sparse here: zeros after the head). */
START_TEST(test_recorded_read)
{
	struct wal_metadata md = untouched;
	struct recorded rec;
	struct error err;
	int r;

	load_recorded(series[_i], &rec);
	make_wal_dir();
	write_file("d/member/wal/" WAL_NAME, rec.head, rec.len);
	error_clear(&err);
	r = wal_read_metadata(AT("d"), &md, &err);
	ck_assert_msg(r == 0, "%s: %d: %s", series[_i], r, err.msg);
	ck_assert_uint_eq(md.member_id, rec.member_id);
	ck_assert_uint_eq(md.cluster_id, rec.cluster_id);

	ck_assert_int_eq(truncate(AT("d/member/wal/" WAL_NAME), 64000000), 0);
	md = untouched;
	ck_assert_int_eq(wal_read_metadata(AT("d"), &md, &err), 0);
	ck_assert_uint_eq(md.member_id, rec.member_id);
	ck_assert_uint_eq(md.cluster_id, rec.cluster_id);
}
END_TEST

/* Every prefix of a real head: fails cleanly until the metadata frame is whole, then gives
 * the IDs. */
START_TEST(test_recorded_prefixes)
{
	struct recorded rec;
	size_t first_ok = 0;

	load_recorded(series[_i], &rec);
	for (size_t n = 0; n <= 512; n++) {
		struct wal_metadata md;
		struct error err;
		int r = parse(rec.head, n, &md, &err);

		if (r == 0) {
			if (!first_ok)
				first_ok = n;
			ck_assert_uint_eq(md.member_id, rec.member_id);
			ck_assert_uint_eq(md.cluster_id, rec.cluster_id);
			continue;
		}
		ck_assert_msg(!first_ok, "%s: prefix %zu fails (%d) after prefix %zu parsed",
		              series[_i], n, r, first_ok);
		ck_assert_msg(r == -ENODATA || r == -EBADMSG, "%s: prefix %zu gives %d", series[_i],
		              n, r);
		ck_assert_msg(err.msg[0], "%s: prefix %zu: no message", series[_i], n);
		ck_assert_uint_eq(md.member_id, untouched.member_id);
	}
	/* the CRC frame (16 bytes) and the metadata frame (8 + at least 8) come first */
	ck_assert_uint_ge(first_ok, 32);
	ck_assert_uint_le(first_ok, 128);
}
END_TEST

/* Each bit of the first frames of a real head flipped: any result but a crash, a read past
 * the buffer (valgrind) or an error without a message. */
START_TEST(test_recorded_bit_flips)
{
	struct recorded rec;

	load_recorded(series[_i], &rec);
	for (size_t i = 0; i < 80; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			struct wal_metadata md;
			struct error err;
			int r;

			rec.head[i] ^= (uint8_t)(1u << bit);
			r = parse(rec.head, 256, &md, &err);
			rec.head[i] ^= (uint8_t)(1u << bit);
			ck_assert_msg(r == 0 || r == -ENODATA || r == -EBADMSG,
			              "byte %zu bit %u: %d", i, bit, r);
			ck_assert_msg(r == 0 || err.msg[0], "byte %zu bit %u: no message", i, bit);
		}
	}
}
END_TEST

/* ---- handcrafted heads ---- */

START_TEST(test_handcrafted)
{
	struct buf b;

	wal_head(&b, 0x1234, 0x5678);
	assert_ids(b.data, b.len, 0x1234, 0x5678);
	/* IDs above INT64_MAX, the full 10-byte varints */
	wal_head(&b, UINT64_MAX, UINT64_C(0x8000000000000000));
	assert_ids(b.data, b.len, UINT64_MAX, UINT64_C(0x8000000000000000));
}
END_TEST

/* A record of 8 bytes has no padding: a length field without the top bit. */
START_TEST(test_unpadded_frame)
{
	struct buf b = {.len = 0}, m, rec;
	size_t pad;

	metadata(&m, 1, 2); /* 4 bytes: the record is 2 + 2 + 2 + 4 = 10; pad to 8 with crc */
	record(&rec, TYPE_METADATA, 0, &m);
	ck_assert_uint_eq(rec.len, 10);
	/* drop the crc field (2 bytes): an 8-byte record */
	memmove(rec.data + 2, rec.data + 4, rec.len - 4);
	rec.len -= 2;
	ck_assert_uint_eq(frame_size_field(rec.len, &pad), 8);
	ck_assert_uint_eq(pad, 0);
	put_frame(&b, &rec);
	assert_ids(b.data, b.len, 1, 2);
}
END_TEST

/* The metadata record straight away (no CRC record before it) still names the member; the
 * fields may come in any order, and unknown fields of every wire type are skipped. */
START_TEST(test_no_crc_record_unknown_fields)
{
	struct buf b = {.len = 0}, m = {.len = 0}, rec = {.len = 0};

	put_varint(&m, 2 << 3 | 0);
	put_varint(&m, 77);
	put_varint(&m, 9 << 3 | 1); /* fixed64 */
	put_u64le(&m, 0);
	put_varint(&m, 1 << 3 | 0);
	put_varint(&m, 66);
	put_varint(&m, 10 << 3 | 5); /* fixed32 */
	put_bytes(&m, (const uint8_t *)"abcd", 4);
	put_varint(&m, 11 << 3 | 2); /* bytes */
	put_varint(&m, 3);
	put_bytes(&m, (const uint8_t *)"xyz", 3);

	put_varint(&rec, 3 << 3 | 2);
	put_varint(&rec, m.len);
	put_bytes(&rec, m.data, m.len);
	put_varint(&rec, 1 << 3 | 0);
	put_varint(&rec, TYPE_METADATA);
	put_frame(&b, &rec);
	assert_ids(b.data, b.len, 66, 77);
}
END_TEST

START_TEST(test_empty)
{
	static const uint8_t one = 0;

	assert_fails(NULL, 0, -ENODATA, "NULL, 0");
	assert_fails(&one, 0, -ENODATA, "empty buffer");
}
END_TEST

START_TEST(test_zeros)
{
	static const uint8_t zeros[4096];

	assert_fails(zeros, sizeof(zeros), -ENODATA, "4096 zero bytes");
	assert_fails(zeros, 8, -ENODATA, "8 zero bytes");
	assert_fails(zeros, 7, -ENODATA, "7 zero bytes");
	/* a CRC record, then the zeros of a segment written no further */
	{
		struct buf b = {.len = 0};

		put_record(&b, TYPE_CRC, 0, NULL);
		for (int i = 0; i < 64; i++)
			put_byte(&b, 0);
		assert_fails(b.data, b.len, -ENODATA, "CRC record then zeros");
	}
}
END_TEST

START_TEST(test_truncated_frame)
{
	struct buf b;
	size_t crc_frame = 16;

	wal_head(&b, 0x1234, 0x5678);
	/* the metadata frame's record cut short, and only its padding cut */
	assert_fails(b.data, crc_frame + 8 + 3, -EBADMSG, "metadata record cut");
	ck_assert_uint_eq(b.data[crc_frame + 7] & 0x80, 0x80); /* the metadata frame is padded */
	assert_fails(b.data, crc_frame + 8 + (b.data[crc_frame] & 0xff) + 1, -EBADMSG,
	             "metadata padding cut");
	/* the length field itself cut: no whole frame, no metadata */
	for (size_t n = crc_frame + 1; n < crc_frame + 8; n++) {
		struct wal_metadata md;
		struct error err;
		int r = parse(b.data, n, &md, &err);

		ck_assert_msg(r == -ENODATA || r == -EBADMSG, "length field cut at %zu: %d", n, r);
		ck_assert(err.msg[0]);
	}
	/* the CRC frame cut */
	assert_fails(b.data, 12, -EBADMSG, "CRC record cut");
}
END_TEST

START_TEST(test_length_too_large)
{
	struct buf b = {.len = 0}, rec;

	/* a frame announcing 1000 bytes in a 40-byte buffer */
	record(&rec, TYPE_METADATA, 0, NULL);
	put_u64le(&b, 1000);
	put_bytes(&b, rec.data, rec.len);
	while (b.len < 40)
		put_byte(&b, 0);
	assert_fails(b.data, b.len, -EBADMSG, "length 1000 in 40 bytes");

	/* the largest 56-bit length, with and without the padding bits */
	b.len = 0;
	put_u64le(&b, UINT64_C(0x00ffffffffffffff));
	put_bytes(&b, rec.data, rec.len);
	assert_fails(b.data, b.len, -EBADMSG, "length 2^56-1");
	b.len = 0;
	put_u64le(&b, UINT64_MAX);
	put_bytes(&b, rec.data, rec.len);
	assert_fails(b.data, b.len, -EBADMSG, "length field all ones");

	/* the record fits, its padding does not */
	b.len = 0;
	put_u64le(&b, rec.len | (uint64_t)(0x80 | 7) << 56);
	put_bytes(&b, rec.data, rec.len);
	assert_fails(b.data, b.len, -EBADMSG, "padding beyond the buffer");
}
END_TEST

START_TEST(test_not_protobuf)
{
	static const struct {
		const char *what;
		uint8_t bytes[16];
		size_t len;
	} bad[] = {
	        {"wire type 7", {0x0f, 0x01}, 2},
	        {"wire type 3 (group)", {0x0b, 0x01}, 2},
	        {"varint cut", {0x08, 0x81}, 2},
	        {"key cut", {0x88}, 1},
	        {"varint of 11 bytes",
	         {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	         12},
	        {"bytes longer than the record", {0x1a, 0x40, 0x08, 0x01}, 4},
	        {"fixed64 cut", {0x21, 0x01, 0x02}, 3},
	        {"fixed32 cut", {0x25, 0x01}, 2},
	        {"text", {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'a', 'l'}, 9},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b = {.len = 0}, rec = {.len = 0};

		put_bytes(&rec, bad[i].bytes, bad[i].len);
		put_frame(&b, &rec);
		assert_fails(b.data, b.len, -EBADMSG, bad[i].what);
		/* the same after a good CRC record */
		b.len = 0;
		put_record(&b, TYPE_CRC, 0, NULL);
		put_frame(&b, &rec);
		assert_fails(b.data, b.len, -EBADMSG, bad[i].what);
	}
}
END_TEST

/* An entry (type 2) or any other record before the metadata: the WAL has no metadata. */
START_TEST(test_other_record_first)
{
	static const uint64_t types[] = {TYPE_ENTRY, TYPE_STATE, TYPE_SNAPSHOT, 0, 99};
	struct buf b, m, entry = {.data = {0x08, 0x01}, .len = 2};

	metadata(&m, 1, 2);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		b.len = 0;
		put_record(&b, types[i], 0x1111, &entry);
		put_record(&b, TYPE_METADATA, 0, &m);
		assert_fails(b.data, b.len, -ENODATA, "another record first");

		b.len = 0;
		put_record(&b, TYPE_CRC, 0, NULL);
		put_record(&b, types[i], 0x1111, &entry);
		put_record(&b, TYPE_METADATA, 0, &m);
		assert_fails(b.data, b.len, -ENODATA, "CRC, then another record");
	}
}
END_TEST

START_TEST(test_metadata_incomplete)
{
	struct buf b, m, garbage = {.data = {0x0f, 0xff}, .len = 2};

	metadata(&m, 0x1234, 0);
	b.len = 0;
	put_record(&b, TYPE_CRC, 0, NULL);
	put_record(&b, TYPE_METADATA, 0, &m);
	assert_fails(b.data, b.len, -EBADMSG, "no cluster ID");

	metadata(&m, 0, 0x5678);
	b.len = 0;
	put_record(&b, TYPE_CRC, 0, NULL);
	put_record(&b, TYPE_METADATA, 0, &m);
	assert_fails(b.data, b.len, -EBADMSG, "no member ID");

	b.len = 0;
	put_record(&b, TYPE_CRC, 0, NULL);
	put_record(&b, TYPE_METADATA, 0, NULL);
	assert_fails(b.data, b.len, -EBADMSG, "metadata record without data");

	b.len = 0;
	put_record(&b, TYPE_CRC, 0, NULL);
	put_record(&b, TYPE_METADATA, 0, &garbage);
	assert_fails(b.data, b.len, -EBADMSG, "metadata data not a protobuf");
}
END_TEST

/* ---- wal_read_metadata ---- */

static void assert_read_fails(const char *rel, const char *names)
{
	struct wal_metadata md = untouched;
	struct error err;
	int r;

	error_clear(&err);
	r = wal_read_metadata(AT(rel), &md, &err);
	ck_assert_msg(r < 0, "%s: got %d", rel, r);
	ck_assert_int_eq(err.code, r);
	ck_assert_msg(strstr(err.msg, names), "%s: the message '%s' does not name '%s'", rel,
	              err.msg, names);
	ck_assert_uint_eq(md.member_id, untouched.member_id);
	ck_assert_uint_eq(md.cluster_id, untouched.cluster_id);
}

START_TEST(test_read_no_wal)
{
	/* no data dir, no member/wal, an empty member/wal, only a preallocated 0.tmp */
	assert_read_fails("nope", AT("nope/member/wal"));
	make_dir("d");
	assert_read_fails("d", AT("d/member/wal"));
	make_dir("d/member");
	make_dir("d/member/wal");
	assert_read_fails("d", AT("d/member/wal"));
	write_file("d/member/wal/0.tmp", (const uint8_t *)"", 0);
	write_file("d/member/wal/.wal", (const uint8_t *)"", 0);
	assert_read_fails("d", AT("d/member/wal"));
}
END_TEST

START_TEST(test_read_bad_wal)
{
	static const uint8_t zeros[256];

	make_wal_dir();
	write_file("d/member/wal/" WAL_NAME, zeros, 0);
	assert_read_fails("d", WAL_NAME);
	write_file("d/member/wal/" WAL_NAME, zeros, sizeof(zeros));
	assert_read_fails("d", WAL_NAME);
	write_file("d/member/wal/" WAL_NAME, (const uint8_t *)"not a WAL at all\n", 17);
	assert_read_fails("d", WAL_NAME);
}
END_TEST

/* The WAL is a symlink or a directory: an error, never followed. */
START_TEST(test_read_not_a_file)
{
	struct buf b;

	make_wal_dir();
	wal_head(&b, 1, 2);
	write_file("elsewhere.wal", b.data, b.len);
	ck_assert_int_eq(symlink(AT("elsewhere.wal"), AT("d/member/wal/" WAL_NAME)), 0);
	assert_read_fails("d", WAL_NAME);
	ck_assert_int_eq(unlink(AT("d/member/wal/" WAL_NAME)), 0);
	make_dir("d/member/wal/" WAL_NAME);
	assert_read_fails("d", WAL_NAME);
}
END_TEST

/* Several segments: the first by name holds the metadata. They are made in reverse order so
 * that the directory's order is not the names' order. */
START_TEST(test_read_first_by_name)
{
	static const char *const names[] = {
	        "0000000000000002-0000000000000200.wal",
	        "0000000000000001-0000000000000100.wal",
	        "0.tmp",
	        WAL_NAME,
	        "1.tmp",
	};
	struct wal_metadata md = untouched;
	struct error err;
	struct buf b;
	char rel[128];
	int r;

	make_wal_dir();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		wal_head(&b, 100 + i, 200 + i);
		snprintf(rel, sizeof(rel), "d/member/wal/%s", names[i]);
		write_file(rel, b.data, b.len);
	}
	error_clear(&err);
	r = wal_read_metadata(AT("d"), &md, &err);
	ck_assert_msg(r == 0, "%d: %s", r, err.msg);
	ck_assert_uint_eq(md.member_id, 103);
	ck_assert_uint_eq(md.cluster_id, 203);
}
END_TEST

/* Two segments, the second made first. */
START_TEST(test_read_two_segments)
{
	struct wal_metadata md = untouched;
	struct error err;
	struct buf b;
	int r;

	make_wal_dir();
	wal_head(&b, 7, 8);
	write_file("d/member/wal/0000000000000001-0000000000000100.wal", b.data, b.len);
	wal_head(&b, 5, 6);
	write_file("d/member/wal/" WAL_NAME, b.data, b.len);
	error_clear(&err);
	r = wal_read_metadata(AT("d"), &md, &err);
	ck_assert_msg(r == 0, "%d: %s", r, err.msg);
	ck_assert_uint_eq(md.member_id, 5);
	ck_assert_uint_eq(md.cluster_id, 6);
}
END_TEST

/* ---- how far the log went: wal_parse_state() and wal_read_state() ---- */

/* A recorded segment (data/wal-<series>.log) and the raftIndex its member reported. */
struct recorded_log {
	uint8_t *data;
	size_t len;
	uint64_t raft_index;
};

static void load_log(const char *s, struct recorded_log *ret)
{
	char path[4096], name[64], text[64];
	long size;
	FILE *f;

	snprintf(name, sizeof(name), "wal-%s.log", s);
	data_path(path, sizeof(path), name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	ck_assert_int_gt(size, 512);
	rewind(f);
	ret->data = malloc((size_t)size);
	ck_assert_ptr_nonnull(ret->data);
	ck_assert_uint_eq(fread(ret->data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	ret->len = (size_t)size;
	snprintf(name, sizeof(name), "wal-%s.state", s);
	data_path(path, sizeof(path), name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
	fclose(f);
	ck_assert_msg(sscanf(text, "raft_index=%" SCNu64, &ret->raft_index) == 1, "%s: '%s'", path,
	              text);
	ck_assert_uint_gt(ret->raft_index, 20);
}

/* A real segment: the commit index of its last HardState is the index the member reported
 * before it stopped. */
START_TEST(test_state_recorded)
{
	struct recorded_log log;
	struct wal_state st;
	struct error err;

	load_log(series[_i], &log);
	error_clear(&err);
	ck_assert_msg(wal_parse_state(log.data, log.len, &st, &err) == 0, "%s: %s", series[_i],
	              err.msg);
	ck_assert_uint_eq(st.commit, log.raft_index);
	ck_assert_uint_ge(st.last_index, st.commit);
	ck_assert_uint_ge(st.term, 1);

	/* in a data dir, as the last of two segments, padded as etcd preallocates it */
	make_wal_dir();
	write_file("d/member/wal/0000000000000001-0000000000000010.wal", log.data, log.len);
	ck_assert_int_eq(
	        truncate(AT("d/member/wal/0000000000000001-0000000000000010.wal"), 64000000), 0);
	{
		struct buf b;

		wal_head(&b, 5, 6);
		write_file("d/member/wal/" WAL_NAME, b.data, b.len);
	}
	st = (struct wal_state){0};
	ck_assert_msg(wal_read_state(AT("d"), &st, &err) == 0, "%s: %s", series[_i], err.msg);
	ck_assert_uint_eq(st.commit, log.raft_index);
	free(log.data);
}
END_TEST

/* Every prefix of a real segment, as a crash would leave it: never an error past the first
 * frame, never a commit index beyond the whole segment's. */
START_TEST(test_state_prefixes)
{
	struct recorded_log log;
	uint64_t last = 0;

	load_log(series[_i], &log);
	for (size_t n = 0; n <= log.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		struct wal_state st;
		struct error err;
		int r;

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, log.data, n);
		error_clear(&err);
		r = wal_parse_state(copy, n, &st, &err);
		free(copy);
		ck_assert_msg(r == 0, "%s: prefix %zu: %d %s", series[_i], n, r, err.msg);
		ck_assert_uint_le(st.commit, log.raft_index);
		ck_assert_uint_ge(st.commit, last);
		last = st.commit;
	}
	ck_assert_uint_eq(last, log.raft_index);
	free(log.data);
}
END_TEST

/* Bit flips in a real segment: any commit index, never a crash or a read past the buffer. */
START_TEST(test_state_bit_flips)
{
	struct recorded_log log;

	load_log(series[_i], &log);
	for (size_t i = 0; i < log.len; i += 7) {
		struct wal_state st;

		log.data[i] ^= 0x5a;
		ck_assert_int_ge(wal_parse_state(log.data, log.len, &st, NULL), -EBADMSG);
		log.data[i] ^= 0x5a;
	}
	free(log.data);
}
END_TEST

/* Handcrafted: the last HardState wins; entries and snapshots give the highest index; a
 * torn frame ends the records; a first frame that is not a record is an error. */
START_TEST(test_state_handcrafted)
{
	struct buf b, hs, e, snap;
	struct wal_state st;
	struct error err;

	wal_head(&b, 1, 2);
	/* HardState {term 3, vote 1, commit 40} */
	hs = (struct buf){.data = {0x08, 3, 0x10, 1, 0x18, 40}, .len = 6};
	put_record(&b, TYPE_STATE, 0, &hs);
	/* Entry {Term 3, Index 41} and {Term 3, Index 42} */
	e = (struct buf){.data = {0x10, 3, 0x18, 41}, .len = 4};
	put_record(&b, TYPE_ENTRY, 0, &e);
	e.data[3] = 42;
	put_record(&b, TYPE_ENTRY, 0, &e);
	/* Snapshot {index 30, term 2} */
	snap = (struct buf){.data = {0x08, 30, 0x10, 2}, .len = 4};
	put_record(&b, TYPE_SNAPSHOT, 0, &snap);
	hs.data[5] = 42;
	put_record(&b, TYPE_STATE, 0, &hs);
	error_clear(&err);
	ck_assert_int_eq(wal_parse_state(b.data, b.len, &st, &err), 0);
	ck_assert_uint_eq(st.commit, 42);
	ck_assert_uint_eq(st.term, 3);
	ck_assert_uint_eq(st.last_index, 42);
	ck_assert_uint_eq(st.snapshot_index, 30);

	/* a torn last frame (its length says more than there is): the records end before it */
	{
		size_t whole = b.len;

		hs.data[5] = 99;
		put_record(&b, TYPE_STATE, 0, &hs);
		ck_assert_int_eq(wal_parse_state(b.data, b.len - 3, &st, &err), 0);
		ck_assert_uint_eq(st.commit, 42);
		/* garbage where the next frame would be */
		b.len = whole;
		put_u64le(&b, UINT64_C(0x00ffffffffffff01));
		ck_assert_int_eq(wal_parse_state(b.data, b.len, &st, &err), 0);
		ck_assert_uint_eq(st.commit, 42);
	}
	/* not a WAL */
	{
		static const uint8_t junk[16] = "not a WAL file!";

		ck_assert_int_eq(wal_parse_state(junk, sizeof(junk), &st, &err), -EBADMSG);
		ck_assert_msg(err.msg[0], "no message");
	}
	/* nothing, and zeros: nothing to say, no error */
	{
		static const uint8_t zeros[64];

		ck_assert_int_eq(wal_parse_state(zeros, 0, &st, NULL), 0);
		ck_assert_uint_eq(st.commit, 0);
		ck_assert_int_eq(wal_parse_state(zeros, sizeof(zeros), &st, NULL), 0);
		ck_assert_uint_eq(st.commit, 0);
	}
}
END_TEST

START_TEST(test_state_read_errors)
{
	struct wal_state st = {.commit = 7};
	struct error err;

	error_clear(&err);
	ck_assert_int_eq(wal_read_state(AT("nothing"), &st, &err), -ENOENT);
	ck_assert_msg(err.msg[0], "no message");
	ck_assert_uint_eq(st.commit, 7);
	make_wal_dir();
	write_file("d/member/wal/" WAL_NAME, (const uint8_t *)"not a WAL file at all", 21);
	ck_assert_int_eq(wal_read_state(AT("d"), &st, &err), -EBADMSG);
	ck_assert_uint_eq(st.commit, 7);
}
END_TEST

static Suite *wal_suite(void)
{
	Suite *s = suite_create("wal");
	TCase *tc = tcase_create("recorded");
	const int n_series = (int)(sizeof(series) / sizeof(series[0]));

	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_loop_test(tc, test_recorded_parse, 0, n_series);
	tcase_add_loop_test(tc, test_recorded_read, 0, n_series);
	tcase_add_loop_test(tc, test_recorded_prefixes, 0, n_series);
	tcase_add_loop_test(tc, test_recorded_bit_flips, 0, n_series);
	tcase_add_loop_test(tc, test_state_recorded, 0, n_series);
	tcase_add_loop_test(tc, test_state_prefixes, 0, n_series);
	tcase_add_loop_test(tc, test_state_bit_flips, 0, n_series);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_handcrafted);
	tcase_add_test(tc, test_unpadded_frame);
	tcase_add_test(tc, test_no_crc_record_unknown_fields);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_zeros);
	tcase_add_test(tc, test_truncated_frame);
	tcase_add_test(tc, test_length_too_large);
	tcase_add_test(tc, test_not_protobuf);
	tcase_add_test(tc, test_other_record_first);
	tcase_add_test(tc, test_metadata_incomplete);
	tcase_add_test(tc, test_state_handcrafted);
	suite_add_tcase(s, tc);

	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, make_tmp, NULL);
	tcase_add_test(tc, test_read_no_wal);
	tcase_add_test(tc, test_read_bad_wal);
	tcase_add_test(tc, test_read_not_a_file);
	tcase_add_test(tc, test_read_first_by_name);
	tcase_add_test(tc, test_read_two_segments);
	tcase_add_test(tc, test_state_read_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testdir_run("wal", wal_suite());
}
