#include "membership.h"

#include "decide.h"
#include "exitcode.h"
#include "identity.h"

#include <stdio.h>

static void call_deadline(const struct membership_survey_opts *o, struct deadline *d)
{
	if (o->run)
		deadline_init_within(d, o->call_timeout_ms, o->run);
	else
		deadline_init(d, o->call_timeout_ms);
}

/* A voter that may take over the leadership: one that stays. */
static bool may_lead(const struct membership_survey_opts *o, const struct etcd_member *m)
{
	unsigned ordinal;

	return identity_member_ordinal(o->set_name, m->name,
	                               m->n_peer_urls ? m->peer_urls[0] : NULL, &ordinal) < 0 ||
	       ordinal < o->stays_below;
}

void membership_survey(struct http_client *http, const struct etcd_member_list *list,
                       uint64_t target, const struct membership_survey_opts *o,
                       struct membership_survey *ret)
{
	uint64_t best_index = 0;

	*ret = (struct membership_survey){0};
	for (size_t i = 0; i < list->n_members; i++) {
		const struct etcd_member *m = &list->members[i];
		struct etcd_status st;
		struct deadline d;

		if (m->id == target) {
			ret->found = true;
			ret->target_voter = !m->is_learner;
		}
		if (m->is_learner)
			continue;
		ret->voters++;
		if (m->id == target || !m->n_client_urls)
			continue;
		call_deadline(o, &d);
		if (etcd_health(http, m->client_urls[0], &d, NULL) != 1)
			continue;
		ret->healthy_others++;
		if (!o->statuses)
			continue;
		call_deadline(o, &d);
		if (etcd_status_get(http, m->client_urls[0], &d, &st, NULL) < 0)
			continue;
		if (st.leader && !ret->leader)
			ret->leader = st.leader;
		if (may_lead(o, m) && (!ret->successor || st.raft_index > best_index)) {
			ret->successor = m->id;
			best_index = st.raft_index;
		}
	}
}

int membership_removal_check(const struct membership_survey *s, const char *action, char *why,
                             size_t size)
{
	unsigned others = s->voters - (s->target_voter ? 1 : 0);

	if (!s->found || join_remove_keeps_quorum(s->voters, s->healthy_others, s->target_voter))
		return 0;
	if (others == 0)
		snprintf(why, size, "refusing to %s: no voting member would be left", action);
	else
		snprintf(
		        why, size,
		        "refusing to %s: %u of the other %u voters are healthy, and %u of %u would be needed for quorum after the removal",
		        action, s->healthy_others, others, others / 2 + 1, others);
	return EXIT_REFUSED;
}
