/* The snapshot stream decoder: newline-delimited JSON messages with base64 blobs, or an
 * error message, from the gateway's maintenance/snapshot (written to /dev/null here). */
#include "fuzz.h"

#include "etcd.h"

#include <fcntl.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct error err;
	uint64_t n;

	if (fd < 0 && (fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		abort();
	error_clear(&err);
	(void)etcd_snapshot_decode((const char *)data, size, fd, 1u << 20, &n, &err);
	return 0;
}
