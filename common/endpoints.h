/* Names and URLs of the members of the StatefulSet: peer and client URLs per ordinal and
 * the --initial-cluster string. All results are malloc'd strings the caller frees; NULL
 * only when out of memory. */
#pragma once

#include "settings.h"

#include <stdbool.h>
#include <stddef.h>

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

/* The endpoints of StatefulSet set_name as the settings describe them (Service, namespace,
 * domain, ports; https client URLs when client TLS is set). Strings are borrowed from s and
 * set_name, which must outlive e. */
void endpoints_init(struct endpoints *e, const struct settings *s, const char *set_name);

/* "<set>-<ordinal>", the pod and member name. */
char *endpoints_member_name(const struct endpoints *e, unsigned ordinal);
/* "<set>-<ordinal>.<service>.<namespace>[.svc.<domain>]", the pod's DNS name. */
char *endpoints_host(const struct endpoints *e, unsigned ordinal);
char *endpoints_peer_url(const struct endpoints *e, unsigned ordinal);
char *endpoints_client_url(const struct endpoints *e, unsigned ordinal);

/* The client URLs to ask about the cluster, for the member of this ordinal: the
 * comma-separated `extra` ones first (may be NULL), then every other member's by ordinal,
 * 0 to max(count, ordinal + 1) - 1 (count: cluster_ordinal_bound()). Returns 0 with *ret
 * (n strings, each and the array malloc'd; free with endpoints_free_urls()) or -ENOMEM. */
int endpoints_other_client_urls(const struct endpoints *e, unsigned ordinal, unsigned count,
                                const char *extra, char ***ret, size_t *ret_n);
void endpoints_free_urls(char **urls, size_t n);

/* "name0=peer0,name1=peer1,..." for ordinals 0..size-1: the bootstrap --initial-cluster. */
char *endpoints_initial_cluster(const struct endpoints *e, unsigned size);
