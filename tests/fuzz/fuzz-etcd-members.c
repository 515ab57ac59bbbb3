/* The member list decoders: the client API's member list, the peer port's /members, the
 * peer answer classification (an etcd's list, or etcd-join's own 503 answer) and the member
 * add response. Every member of a list that decodes is also inspected the way the programs
 * inspect it. */
#include "fuzz.h"

#include "cluster.h"
#include "etcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct etcd_member_list l = {0};
	char detail[256], id[ETCD_ID_STR_MAX];
	struct error err;
	uint64_t added;

	error_clear(&err);
	if (etcd_parse_member_list(body, size, &l, &err) == 0) {
		for (size_t i = 0; i < l.n_members; i++) {
			(void)etcd_member_started(&l.members[i]);
			(void)etcd_member_has_peer_url(&l.members[i],
			                               "http://etcd-0.etcd.default:2380");
			(void)etcd_id_format(l.members[i].id, id);
		}
		etcd_member_list_free(&l);
	}
	error_clear(&err);
	if (etcd_parse_peer_members(body, size, &l, &err) == 0)
		etcd_member_list_free(&l);
	(void)cluster_parse_peer_answer(200, body, size, detail, sizeof(detail));
	(void)cluster_parse_peer_answer(503, body, size, detail, sizeof(detail));
	error_clear(&err);
	if (etcd_parse_member_add(body, size, &added, &l, &err) == 0)
		etcd_member_list_free(&l);
	return 0;
}
