/* The WAL readers: the metadata record (member and cluster ID) and the raft state (commit,
 * term, last index, snapshot) of a segment, from any bytes a volume may hold. */
#include "fuzz.h"

#include "wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wal_metadata md;
	struct wal_state st;
	struct error err;

	error_clear(&err);
	(void)wal_parse_metadata(data, size, &md, &err);
	error_clear(&err);
	(void)wal_parse_state(data, size, &st, &err);
	return 0;
}
