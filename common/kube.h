/* The one Kubernetes API read etcd-hooks needs: the StatefulSet's desired spec.replicas,
 * with the pod's service account (token, CA and namespace files) over HTTPS. */
#pragma once

#include "clock.h"
#include "error.h"

#include <stddef.h>
#include <stdint.h>

#define KUBE_DEFAULT_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* Decode a StatefulSet object: its spec.replicas (absent means 1, as in Kubernetes).
 * A Status object gives -ENOENT (404), -EACCES (401, 403) or -EREMOTEIO (any other code)
 * with its message; anything else -EBADMSG. Pure. */
int kube_parse_replicas(long http_status, const char *body, size_t len, unsigned *ret,
                        struct error *err);

/* GET https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/apis/apps/v1/namespaces/
 * <namespace>/statefulsets/<name> with the token and CA of sa_dir, and the namespace given
 * (NULL: the service account's namespace file). Returns 0 and *ret, -ENXIO when not in a
 * cluster (no KUBERNETES_SERVICE_HOST or no token), or another negative errno. */
int kube_statefulset_replicas(const char *sa_dir, const char *namespace, const char *name,
                              const struct deadline *d, unsigned *ret, struct error *err);
