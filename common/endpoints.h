/* Names and URLs of the members of the StatefulSet: peer and client URLs per ordinal and
 * the --initial-cluster string. All results are malloc'd strings the caller frees; NULL
 * only when out of memory. */
#pragma once

#include <stdbool.h>

struct endpoints {
	const char *set_name;
	const char *service; /* the headless Service */
	const char *namespace;
	const char *cluster_domain; /* NULL: "pod.service.namespace" */
	bool client_tls;            /* https client URLs */
	bool peer_tls;              /* https peer URLs */
	unsigned client_port;
	unsigned peer_port;
};

/* "<set>-<ordinal>", the pod and member name. */
char *endpoints_member_name(const struct endpoints *e, unsigned ordinal);
/* "<set>-<ordinal>.<service>.<namespace>[.svc.<domain>]", the pod's DNS name. */
char *endpoints_host(const struct endpoints *e, unsigned ordinal);
char *endpoints_peer_url(const struct endpoints *e, unsigned ordinal);
char *endpoints_client_url(const struct endpoints *e, unsigned ordinal);

/* "name0=peer0,name1=peer1,..." for ordinals 0..size-1: the bootstrap --initial-cluster. */
char *endpoints_initial_cluster(const struct endpoints *e, unsigned size);
