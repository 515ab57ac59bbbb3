/* The status and version decoders (/v3/maintenance/status, /version of a client or peer
 * port). */
#include "fuzz.h"

#include "etcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etcd_version v;
	struct etcd_status st;
	struct error err;

	error_clear(&err);
	(void)etcd_parse_status((const char *)data, size, &st, &err);
	error_clear(&err);
	(void)etcd_parse_version((const char *)data, size, &v, &err);
	return 0;
}
