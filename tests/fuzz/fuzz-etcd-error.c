/* The error decoders: etcd's gRPC gateway error bodies (3.3 to 3.7: "error" or "message",
 * "code"), proxies' HTML and text pages, with the status codes and content types the
 * programs meet; and the peer port's answer about a member ID (200, 404, 410, others),
 * plus the ID parser on the input as a string. */
#include "fuzz.h"

#include "etcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 400, 401, 404, 410, 500, 502, 503};
	static const char *const types[] = {"application/json", "text/html; charset=utf-8",
	                                    "text/plain", NULL};
	const char *body = (const char *)data;
	enum etcd_peer_says says;
	struct error err;
	char *s;

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			error_clear(&err);
			(void)etcd_parse_error(statuses[i], types[t], body, size, &err);
			(void)etcd_error_transient(&err);
			(void)etcd_error_peer_exists(&err);
		}
		error_clear(&err);
		(void)etcd_parse_peer_says(statuses[i], body, size, &says, &err);
	}
	s = fuzz_string(data, size);
	if (s) {
		uint64_t id;

		(void)etcd_id_parse(s, &id);
		free(s);
	}
	return 0;
}
