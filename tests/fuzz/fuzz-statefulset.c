/* The StatefulSet decoder: the API server's StatefulSet objects and Status objects (401,
 * 403, 404, 409, 500), as etcd-join, etcd-leave and etcd-clean read them. */
#include "fuzz.h"

#include "kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 401, 403, 404, 409, 500};
	struct kube_statefulset sts;
	struct error err;
	unsigned n;

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		error_clear(&err);
		(void)kube_parse_statefulset(statuses[i], (const char *)data, size, &sts, &err);
		error_clear(&err);
		(void)kube_parse_replicas(statuses[i], (const char *)data, size, &n, &err);
	}
	return 0;
}
