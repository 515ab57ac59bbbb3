/* Until etcd runs, etcd-join answers on this member's peer port for it: an empty member that
 * decides whether it may bootstrap asks every peer, and a peer whose etcd does not run yet
 * would otherwise be silent, which is not evidence of anything. Every request gets one
 * answer: HTTP 503 with a JSON body `{"etcd-hooks": {...}}` that says what this member's
 * data dir holds (cluster_parse_peer_answer() reads it). A thread of its own answers, so
 * that the program's own slow calls never make a peer time out on it. The port is closed
 * before etcd is exec'd, and etcd binds it then. */
#pragma once

#include "error.h"

#include <stdint.h>

struct beacon;

/* Listen on 0.0.0.0:port and answer from a thread. Returns 0 and *ret, or a negative errno
 * (the port is taken, for example): the caller goes on without one. */
int beacon_open(unsigned port, struct beacon **ret, struct error *err);
/* The port listened on (the one the kernel chose when 0 was given). */
unsigned beacon_port(const struct beacon *b);

/* Stop the thread and close the port. NULL is fine. */
void beacon_close(struct beacon *b);

/* The JSON object answered from now on (copied); NULL-safe on b. */
void beacon_set_body(struct beacon *b, const char *json);
