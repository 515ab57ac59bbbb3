/* The metadata record of an etcd WAL, read offline: the member ID and the cluster ID this
 * data dir belongs to. A WAL is a sequence of frames: a little-endian 64-bit length field
 * (low 56 bits: the record size; top bit set: the low 3 bits of the top byte are padding),
 * then a protobuf walpb.Record {int64 type = 1; uint32 crc = 2; bytes data = 3}. The first
 * file begins with a CRC record and then the metadata record (type 1), whose data is
 * etcdserverpb.Metadata {uint64 NodeID = 1; uint64 ClusterID = 2}. */
#pragma once

#include "error.h"

#include <stddef.h>
#include <stdint.h>

struct wal_metadata {
	uint64_t member_id;
	uint64_t cluster_id;
};

/* Decode the metadata from the first bytes of a WAL file (buf, len). Pure. Returns 0,
 * -ENODATA when no metadata record comes before the first entry, or -EBADMSG when the
 * frames are not a WAL. */
int wal_parse_metadata(const uint8_t *buf, size_t len, struct wal_metadata *ret, struct error *err);

/* Read the metadata of the data dir's WAL: the first *.wal file (by name) in
 * <data_dir>/member/wal. Returns 0, or a negative errno with the reason in err. */
int wal_read_metadata(const char *data_dir, struct wal_metadata *ret, struct error *err);

/* How far the data's raft log went: from the last WAL segment, the commit index and term of
 * its last HardState record (type 3, raftpb.HardState {term = 1, vote = 2, commit = 3}),
 * the highest entry index (type 2, raftpb.Entry {Term = 2, Index = 3}) and the highest
 * snapshot index (type 5, walpb.Snapshot {index = 1}). A cluster that this member really
 * belonged to has committed at least `commit`; a cluster bootstrapped again beside it has
 * not. */
struct wal_state {
	uint64_t commit;
	uint64_t term;
	uint64_t last_index;
	uint64_t snapshot_index;
};

/* Decode the frames of one WAL segment (buf, len), stopping at the zero-filled
 * preallocated tail or at a torn last frame. Pure. Returns 0 (fields that no record gave
 * stay 0), or -EBADMSG when the first frame is not a WAL record. */
int wal_parse_state(const uint8_t *buf, size_t len, struct wal_state *ret, struct error *err);

/* wal_parse_state() of the last *.wal file (by name) in <data_dir>/member/wal, streamed in
 * pieces (a segment is 64 MB, mostly preallocated zeros). Returns 0, or a negative errno. */
int wal_read_state(const char *data_dir, struct wal_state *ret, struct error *err);
