/* Who this pod is: the member name, the StatefulSet name and the ordinal, from --name /
 * POD_NAME / HOSTNAME / gethostname(). */
#pragma once

#include "error.h"

#define IDENTITY_MAX_ORDINAL 2147483646U /* a StatefulSet's replicas is an int32 */

struct identity {
	char name[64];     /* the pod name, = the etcd member name */
	char set_name[64]; /* the StatefulSet name: the pod name without "-<ordinal>" */
	unsigned ordinal;
};

/* Split a pod name "<set>-<ordinal>" strictly: the set part is a non-empty DNS label, the
 * ordinal is decimal digits without a leading zero, at most IDENTITY_MAX_ORDINAL.
 * Returns 0 or -EINVAL with the reason in err. */
int identity_parse(const char *name, struct identity *ret, struct error *err);

/* Take the name from `name` (the --name/POD_NAME/HOSTNAME setting), or gethostname() when
 * NULL; parse it; and check that `set_name` (may be NULL) matches its prefix.
 * Returns 0 or -EINVAL with a message that names what was seen and what was expected. */
int identity_resolve(const char *name, const char *set_name, struct identity *ret,
                     struct error *err);

/* The ordinal of an etcd member of StatefulSet set_name, from its member name, or when that
 * is empty (not started) from its peer URL's host ("http://etcd-4.etcd.default:2380").
 * Returns 0 and *ret, or -EINVAL when it is not a member of this set. */
int identity_member_ordinal(const char *set_name, const char *name, const char *peer_url,
                            unsigned *ret);
