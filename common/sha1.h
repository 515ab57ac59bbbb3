/* SHA-1, for one purpose: computing the member and cluster IDs etcd derives for a bootstrap
 * (etcd_bootstrap_cluster_id()), so that a bootstrapping peer can be told to be this set's
 * own. Not for security. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_SIZE 20

void sha1(const void *data, size_t len, uint8_t digest[SHA1_DIGEST_SIZE]);
