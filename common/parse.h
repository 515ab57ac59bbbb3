/* The strict parsers of untrusted text (environment values, flags, files, etcd's answers):
 * numbers, durations, DNS names. Pure; includes nothing from common/. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Strict unsigned number parsing: decimal digits only, no sign, no spaces, no empty
 * string, value <= max. Returns 0, -EINVAL (not a number) or -ERANGE (too large). */
int parse_uint(const char *s, uint64_t max, uint64_t *ret);

/* A duration: whole seconds ("20", "20s") or milliseconds ("1500ms"), at most max_ms.
 * Returns 0, -EINVAL or -ERANGE. */
int parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *ret);

/* True if s is a DNS-1123 label: 1-63 of [a-z0-9-], starting and ending alphanumeric. */
bool dns_label_valid(const char *s);
/* True if s is a DNS-1123 subdomain: dot-separated labels, at most 253 characters. */
bool dns_subdomain_valid(const char *s);

/* True if name is a WAL segment's name as etcd writes it, "%016x-%016x.wal" (sequence and
 * raft index in lower-case hex). etcd skips names its Sscanf cannot read; we also skip the
 * few it would read that it never writes ("1-1.wal", upper case): only a name renamed by
 * hand can be one. */
bool parse_wal_name(const char *name);
