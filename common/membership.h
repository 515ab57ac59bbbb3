/* Changing the cluster's membership safely: the one quorum guard of a removal, for
 * etcd-join's replacement of a stale member and etcd-leave alike.
 *
 * The guard counts the voters listed and asks each voter but the one to be removed for
 * its health; the healthy ones must stay a majority of the voters left
 * (join_remove_keeps_quorum()). A voter that does not answer in time is not healthy: "could
 * not tell" never allows a removal. */
#pragma once

#include "clock.h"
#include "etcd.h"
#include "http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct membership_survey_opts {
	uint64_t call_timeout_ms;   /* each health or status call */
	const struct deadline *run; /* each call within it; NULL: no run deadline */
	/* Also read each healthy voter's status, for the leader and a successor. */
	bool statuses;
	/* Successor candidates: healthy voters of this set whose ordinal is below stays_below
	 * (UINT_MAX: all), and those whose ordinal cannot be told. */
	const char *set_name;
	unsigned stays_below;
};

struct membership_survey {
	bool found;              /* the target is listed */
	bool target_voter;       /* and votes */
	unsigned voters;         /* voting members listed, the target included */
	unsigned healthy_others; /* voters other than the target that say they are healthy */
	uint64_t leader;         /* with statuses: the leader the first healthy voter names */
	uint64_t successor;      /* with statuses: the candidate furthest ahead in the raft log */
};

/* Survey the members of list for the removal of member target (0: none). */
void membership_survey(struct http_client *http, const struct etcd_member_list *list,
                       uint64_t target, const struct membership_survey_opts *o,
                       struct membership_survey *ret);

/* The quorum guard on a survey: 0 when removing the target keeps quorum (or it is not
 * listed), else EXIT_REFUSED with the one refusal message in why: "refusing to <action>:
 * H of the other V voters are healthy, and Q of L would be needed for quorum after the
 * removal". */
int membership_removal_check(const struct membership_survey *s, const char *action, char *why,
                             size_t size);
