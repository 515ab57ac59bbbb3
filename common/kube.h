/* The Kubernetes API, with the pod's service account (token and CA files) over HTTPS: the
 * StatefulSet's desired spec.replicas, and a mark on it, kept outside every volume, that
 * its cluster formed (RBAC: 'get', and 'patch' for the mark). */
#pragma once

#include "clock.h"
#include "error.h"

#include <stddef.h>
#include <stdint.h>

#define KUBE_DEFAULT_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* The annotation that says the StatefulSet's etcd cluster formed, with its cluster ID (hex,
 * as etcdctl shows it). Written once a member votes in a formed cluster; never removed by
 * etcd-hooks. */
#define KUBE_FORMED_ANNOTATION "etcd-hooks.io/formed-cluster-id"

struct kube_statefulset {
	unsigned replicas;       /* spec.replicas (absent means 1, as in Kubernetes) */
	unsigned created;        /* status.replicas, the pods its controller created; UINT_MAX
	                          * when absent or not a count */
	char formed_cluster[32]; /* KUBE_FORMED_ANNOTATION, "" when absent */
};

/* Decode a StatefulSet object. A Status object gives -ENOENT (404), -EACCES (401, 403) or
 * -EREMOTEIO (any other code) with its message; anything else -EBADMSG. Pure. */
int kube_parse_statefulset(long http_status, const char *body, size_t len,
                           struct kube_statefulset *ret, struct error *err);
/* kube_parse_statefulset()'s replicas alone. */
int kube_parse_replicas(long http_status, const char *body, size_t len, unsigned *ret,
                        struct error *err);

/* GET https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/apis/apps/v1/namespaces/
 * <namespace>/statefulsets/<name> with the token and CA of sa_dir, and the namespace given
 * (NULL: the service account's namespace file). Returns 0 and *ret, -ENXIO when not in a
 * cluster (no KUBERNETES_SERVICE_HOST or no token), or another negative errno. */
int kube_statefulset_replicas(const char *sa_dir, const char *namespace, const char *name,
                              const struct deadline *d, unsigned *ret, struct error *err);
/* The same GET, the whole kube_statefulset. */
int kube_statefulset_read(const char *sa_dir, const char *namespace, const char *name,
                          const struct deadline *d, struct kube_statefulset *ret,
                          struct error *err);

/* PATCH (a JSON merge patch) KUBE_FORMED_ANNOTATION = cluster_id onto the StatefulSet.
 * Returns 0, -EACCES when RBAC does not allow 'patch', -ENXIO outside a cluster, or another
 * negative errno. */
int kube_statefulset_mark_formed(const char *sa_dir, const char *namespace, const char *name,
                                 const char *cluster_id, const struct deadline *d,
                                 struct error *err);

/* May the mark be written? A dry-run PATCH (?dryRun=All, which the API server authorizes
 * and admits but never stores) that changes nothing. Returns 0, -EACCES when RBAC does not
 * allow 'patch', -ENXIO outside a cluster, or another negative errno. */
int kube_statefulset_may_mark(const char *sa_dir, const char *namespace, const char *name,
                              const struct deadline *d, struct error *err);
