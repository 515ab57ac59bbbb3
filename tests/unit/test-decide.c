/* Unit tests of common/decide: etcd-join's decision over every combination of its inputs,
 * against design.md "etcd-join: the decision", where this member is in a member list, the
 * quorum guard of a removal, etcd-clean's verdict and etcd-leave's. */
#include "decide.h"

#include "exitcode.h"
#include "membership.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ANY (-1)

enum size_case {
	SIZE_MISSING, /* INITIAL_CLUSTER_SIZE not set */
	SIZE_INITIAL, /* ordinal < initial size */
	SIZE_LATER,   /* ordinal >= initial size */
};

/* The expected decision: the first row that matches. Columns: data, cluster, me, size case,
 * formed, peers heard, bootstrap wait over, initial names resolve, a peer unreadable,
 * vouch, tombstoned. */
static const struct row {
	int data, cluster, me, size, formed, heard, over, names, unreadable, vouch, tomb;
	enum join_action action;
	int exit_code;   /* for JOIN_REFUSE */
	const char *tag; /* for JOIN_QUARANTINE */
} rows[] = {
#define R(data, cluster, me, size, formed, heard, over, names, unreadable, vouch, tomb)            \
	data, cluster, me, size, formed, heard, over, names, unreadable, vouch, tomb
        {R(DATADIR_IN_USE, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY), JOIN_REFUSE,
         EXIT_REFUSED, NULL},
        {R(DATADIR_PARTIAL, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY), JOIN_QUARANTINE, 0,
         "partial"},

        {R(DATADIR_VALID, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, true), JOIN_QUARANTINE, 0,
         "left"},
        {R(DATADIR_VALID, JOIN_CLUSTER_UNKNOWN, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY),
         JOIN_PROBE, 0, NULL},
        {R(DATADIR_VALID, JOIN_CLUSTER_NONE, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY),
         JOIN_RESTART, 0, NULL},
        {R(DATADIR_VALID, JOIN_CLUSTER_UNREADABLE, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY),
         JOIN_RESTART, 0, NULL},
        {R(DATADIR_VALID, JOIN_CLUSTER_CONFLICT, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY),
         JOIN_REFUSE, EXIT_REFUSED, NULL},
        /* listed: its leader's log must not be behind the data's (bootstrapped again) */
        {R(DATADIR_VALID, JOIN_CLUSTER_ANSWERS, JOIN_ME_SAME, ANY, ANY, ANY, ANY, ANY, ANY,
           JOIN_VOUCH_UNKNOWN, ANY),
         JOIN_CONFIRM, 0, NULL},
        {R(DATADIR_VALID, JOIN_CLUSTER_ANSWERS, JOIN_ME_SAME, ANY, ANY, ANY, ANY, ANY, ANY,
           JOIN_VOUCH_BEHIND, ANY),
         JOIN_REFUSE, EXIT_REFUSED, NULL},
        {R(DATADIR_VALID, JOIN_CLUSTER_ANSWERS, JOIN_ME_SAME, ANY, ANY, ANY, ANY, ANY, ANY,
           JOIN_VOUCH_OTHER_CLUSTER, ANY),
         JOIN_REFUSE, EXIT_REFUSED, NULL},
        {R(DATADIR_VALID, JOIN_CLUSTER_ANSWERS, JOIN_ME_SAME, ANY, ANY, ANY, ANY, ANY, ANY,
           JOIN_VOUCH_NEVER_HAD, ANY),
         JOIN_REFUSE, EXIT_REFUSED, NULL},
        {R(DATADIR_VALID, JOIN_CLUSTER_ANSWERS, JOIN_ME_SAME, ANY, ANY, ANY, ANY, ANY, ANY, ANY,
           ANY),
         JOIN_RESTART, 0, NULL},
        {R(DATADIR_VALID, JOIN_CLUSTER_ANSWERS, ANY, ANY, ANY, ANY, ANY, ANY, ANY,
           JOIN_VOUCH_UNKNOWN, ANY),
         JOIN_CONFIRM, 0, NULL},
        {R(DATADIR_VALID, JOIN_CLUSTER_ANSWERS, ANY, ANY, ANY, ANY, ANY, ANY, ANY, JOIN_VOUCH_YES,
           ANY),
         JOIN_QUARANTINE, 0, "removed"},
        {R(DATADIR_VALID, JOIN_CLUSTER_ANSWERS, ANY, ANY, ANY, ANY, ANY, ANY, ANY,
           JOIN_VOUCH_LISTED, ANY),
         JOIN_RESTART, 0, NULL},
        {R(DATADIR_VALID, JOIN_CLUSTER_ANSWERS, ANY, ANY, ANY, ANY, ANY, ANY, ANY,
           JOIN_VOUCH_NO_LEADER, ANY),
         JOIN_WAIT, 0, NULL},
        {R(DATADIR_VALID, JOIN_CLUSTER_ANSWERS, ANY, ANY, ANY, ANY, ANY, ANY, ANY,
           JOIN_VOUCH_CANNOT_TELL, ANY),
         JOIN_WAIT, 0, NULL},
        /* another cluster, one behind the data, or one that never had this member */
        {R(DATADIR_VALID, JOIN_CLUSTER_ANSWERS, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY),
         JOIN_REFUSE, EXIT_REFUSED, NULL},

        {R(DATADIR_EMPTY, JOIN_CLUSTER_UNKNOWN, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY),
         JOIN_PROBE, 0, NULL},
        {R(DATADIR_EMPTY, JOIN_CLUSTER_CONFLICT, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY),
         JOIN_REFUSE, EXIT_REFUSED, NULL},
        {R(DATADIR_EMPTY, JOIN_CLUSTER_UNREADABLE, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY),
         JOIN_WAIT, 0, NULL},
        {R(DATADIR_EMPTY, JOIN_CLUSTER_NONE, ANY, ANY, true, ANY, ANY, ANY, ANY, ANY, ANY),
         JOIN_WAIT, 0, NULL},
        {R(DATADIR_EMPTY, JOIN_CLUSTER_NONE, ANY, SIZE_MISSING, ANY, ANY, ANY, ANY, ANY, ANY, ANY),
         JOIN_REFUSE, EXIT_USAGE, NULL},
        {R(DATADIR_EMPTY, JOIN_CLUSTER_NONE, ANY, SIZE_LATER, ANY, ANY, ANY, ANY, ANY, ANY, ANY),
         JOIN_WAIT, 0, NULL},
        {R(DATADIR_EMPTY, JOIN_CLUSTER_NONE, ANY, ANY, ANY, ANY, ANY, ANY, true, ANY, ANY),
         JOIN_WAIT, 0, NULL},
        {R(DATADIR_EMPTY, JOIN_CLUSTER_NONE, ANY, ANY, ANY, false, false, ANY, ANY, ANY, ANY),
         JOIN_WAIT_PEERS, 0, NULL},
        {R(DATADIR_EMPTY, JOIN_CLUSTER_NONE, ANY, ANY, ANY, ANY, ANY, false, ANY, ANY, ANY),
         JOIN_WAIT_PEERS, 0, NULL},
        {R(DATADIR_EMPTY, JOIN_CLUSTER_NONE, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY),
         JOIN_BOOTSTRAP, 0, NULL},
        {R(DATADIR_EMPTY, JOIN_CLUSTER_ANSWERS, JOIN_ME_UNSTARTED, ANY, ANY, ANY, ANY, ANY, ANY,
           ANY, ANY),
         JOIN_REUSE, 0, NULL},
        {R(DATADIR_EMPTY, JOIN_CLUSTER_ANSWERS, JOIN_ME_STARTED, ANY, ANY, ANY, ANY, ANY, ANY, ANY,
           ANY),
         JOIN_REPLACE, 0, NULL},
        {R(DATADIR_EMPTY, JOIN_CLUSTER_ANSWERS, JOIN_ME_SAME, ANY, ANY, ANY, ANY, ANY, ANY, ANY,
           ANY),
         JOIN_REPLACE, 0, NULL},
        {R(DATADIR_EMPTY, JOIN_CLUSTER_ANSWERS, JOIN_ME_ABSENT, ANY, ANY, ANY, ANY, ANY, ANY, ANY,
           ANY),
         JOIN_ADD, 0, NULL},
#undef R
};

/* (ordinal, initial size) pairs of each size case */
static const struct {
	unsigned ordinal, size;
	enum size_case size_case;
} sizes[] = {
        {0, 0, SIZE_MISSING}, {4, 0, SIZE_MISSING}, {0, 3, SIZE_INITIAL}, {2, 3, SIZE_INITIAL},
        {3, 3, SIZE_LATER},   {7, 3, SIZE_LATER},   {0, 1, SIZE_INITIAL}, {1, 1, SIZE_LATER},
};

#define N_DATA    4
#define N_CLUSTER 5
#define N_ME      4
#define N_SIZES   (sizeof(sizes) / sizeof(sizes[0]))
#define N_VOUCH   8

static bool matches(int want, int got)
{
	return want == ANY || want == got;
}

static bool row_matches(const struct row *r, const struct join_input *in, int size_case)
{
	return matches(r->data, (int)in->data) && matches(r->cluster, (int)in->cluster) &&
	       matches(r->me, (int)in->me) && matches(r->size, size_case) &&
	       matches(r->formed, in->formed) && matches(r->heard, in->peers_heard) &&
	       matches(r->over, in->bootstrap_wait_over) &&
	       matches(r->names, in->initial_names_resolve) &&
	       matches(r->unreadable, in->peer_unreadable) && matches(r->vouch, (int)in->vouch) &&
	       matches(r->tomb, in->tombstoned);
}

/* How a combination is named in a failure message (built only when an assertion fails). */
#define WHAT                                                                                       \
	"data=%s cluster=%d me=%d ordinal=%u size=%u formed=%d heard=%d over=%d names=%d "         \
	"unreadable=%d vouch=%d tombstoned=%d"
#define WHAT_ARGS(in)                                                                              \
	datadir_state_name((in)->data), (in)->cluster, (in)->me, (in)->ordinal,                    \
	        (in)->initial_size, (in)->formed, (in)->peers_heard, (in)->bootstrap_wait_over,    \
	        (in)->initial_names_resolve, (in)->peer_unreadable, (in)->vouch, (in)->tombstoned

/* One combination of the inputs against the table and the safety rules. */
static void check_one(const struct join_input *in, int size_case)
{
	struct join_decision d = join_decide(in);
	const struct row *row;
	size_t r;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
		if (row_matches(&rows[r], in, size_case))
			break;
	ck_assert_msg(r < sizeof(rows) / sizeof(rows[0]), "no row for " WHAT, WHAT_ARGS(in));
	row = &rows[r];
	ck_assert_msg(d.action == row->action, WHAT ": '%s', expected '%s'", WHAT_ARGS(in),
	              join_action_name(d.action), join_action_name(row->action));
	if (d.action == JOIN_REFUSE)
		ck_assert_msg(d.exit_code == row->exit_code, WHAT ": exit code %d", WHAT_ARGS(in),
		              d.exit_code);
	if (d.action == JOIN_QUARANTINE)
		ck_assert_msg(strcmp(quarantine_tag_name(d.tag), row->tag) == 0, WHAT ": tag '%s'",
		              WHAT_ARGS(in), quarantine_tag_name(d.tag));
	ck_assert_msg(d.reason && d.reason[0], WHAT ": no reason", WHAT_ARGS(in));

	/* The safety rules, whatever the table above says. */
	if (d.action == JOIN_BOOTSTRAP)
		ck_assert_msg(in->data == DATADIR_EMPTY && in->cluster == JOIN_CLUSTER_NONE &&
		                      in->ordinal < in->initial_size && !in->formed &&
		                      !in->peer_unreadable && in->initial_names_resolve &&
		                      (in->peers_heard || in->bootstrap_wait_over),
		              "bootstrap for " WHAT, WHAT_ARGS(in));
	if (d.action == JOIN_QUARANTINE && in->data == DATADIR_VALID)
		ck_assert_msg(in->tombstoned ||
		                      (in->cluster == JOIN_CLUSTER_ANSWERS &&
		                       in->vouch == JOIN_VOUCH_YES && in->me != JOIN_ME_SAME),
		              "valid data moved aside for " WHAT, WHAT_ARGS(in));
	if (d.action == JOIN_RESTART && in->cluster == JOIN_CLUSTER_ANSWERS)
		ck_assert_msg(in->vouch != JOIN_VOUCH_BEHIND && in->vouch != JOIN_VOUCH_NEVER_HAD &&
		                      in->vouch != JOIN_VOUCH_OTHER_CLUSTER,
		              "restart beside a cluster that is not the data's for " WHAT,
		              WHAT_ARGS(in));
	if (d.action == JOIN_REFUSE)
		ck_assert_msg(d.exit_code == EXIT_REFUSED ||
		                      (d.exit_code == EXIT_USAGE && in->initial_size == 0),
		              WHAT ": refused with exit code %d", WHAT_ARGS(in), d.exit_code);
	if (in->data == DATADIR_IN_USE)
		ck_assert_msg(d.action == JOIN_REFUSE, WHAT ": a data dir in use is touched",
		              WHAT_ARGS(in));
}

/* Every combination of the inputs: 4 data states, 5 cluster answers, 4 places of this member,
 * 8 ordinal/size pairs, 8 vouch verdicts and 6 flags. */
START_TEST(test_decide_table)
{
	unsigned long n = 0;

	for (unsigned flags = 0; flags < 64; flags++)
		for (unsigned si = 0; si < N_SIZES; si++)
			for (unsigned c = 0; c < N_DATA * N_CLUSTER * N_ME * N_VOUCH; c++) {
				struct join_input in = {
				        .data = (enum datadir_state)(c % N_DATA),
				        .cluster = (enum join_cluster)(c / N_DATA % N_CLUSTER),
				        .me = (enum join_me)(c / (N_DATA * N_CLUSTER) % N_ME),
				        .vouch = (enum join_vouch)(c / (N_DATA * N_CLUSTER * N_ME)),
				        .ordinal = sizes[si].ordinal,
				        .initial_size = sizes[si].size,
				        .formed = flags & 1,
				        .peers_heard = flags & 2,
				        .bootstrap_wait_over = flags & 4,
				        .initial_names_resolve = flags & 8,
				        .peer_unreadable = flags & 16,
				        .tombstoned = flags & 32,
				};

				check_one(&in, (int)sizes[si].size_case);
				n++;
			}
	ck_assert_uint_eq(n, 64UL * N_SIZES * N_DATA * N_CLUSTER * N_ME * N_VOUCH);
}
END_TEST

/* The leader's verdict on valid data: its cluster ID, its log against the data's, whether it
 * lists the member, and else what its peer port says about the data's member ID. */
START_TEST(test_vouch)
{
	static const struct {
		bool leader;
		uint64_t leader_cluster, leader_index;
		bool lists_me;
		enum join_peer_word peer;
		uint64_t data_cluster, data_commit;
		enum join_vouch want;
	} t[] = {
	        {false, 7, 100, false, JOIN_PEER_REMOVED, 7, 50, JOIN_VOUCH_NO_LEADER},
	        {false, 7, 100, true, JOIN_PEER_MEMBER, 7, 50, JOIN_VOUCH_NO_LEADER},
	        {true, 8, 100, false, JOIN_PEER_REMOVED, 7, 50, JOIN_VOUCH_OTHER_CLUSTER},
	        {true, 8, 100, true, JOIN_PEER_MEMBER, 7, 50, JOIN_VOUCH_OTHER_CLUSTER},
	        {true, 7, 100, true, JOIN_PEER_NO_ANSWER, 7, 50, JOIN_VOUCH_LISTED},
	        /* bootstrapped again beside the survivor: same cluster ID, a short log, whether
	         * or not it lists the member (the initial member IDs repeat) */
	        {true, 7, 12, false, JOIN_PEER_REMOVED, 7, 5000, JOIN_VOUCH_BEHIND},
	        {true, 7, 99, false, JOIN_PEER_REMOVED, 7, 100, JOIN_VOUCH_BEHIND},
	        {true, 7, 12, true, JOIN_PEER_MEMBER, 7, 5000, JOIN_VOUCH_BEHIND},
	        {true, 7, 100, false, JOIN_PEER_REMOVED, 7, 100, JOIN_VOUCH_YES},
	        {true, 7, 5000, false, JOIN_PEER_REMOVED, 7, 12, JOIN_VOUCH_YES},
	        /* not listed, and the peer port does not say "removed": never moved aside */
	        {true, 7, 5000, false, JOIN_PEER_UNKNOWN, 7, 12, JOIN_VOUCH_NEVER_HAD},
	        {true, 7, 5000, false, JOIN_PEER_NO_ANSWER, 7, 12, JOIN_VOUCH_CANNOT_TELL},
	        {true, 7, 5000, false, JOIN_PEER_MEMBER, 7, 12, JOIN_VOUCH_CANNOT_TELL},
	        {true, 7, 5000, false, JOIN_PEER_OTHER_CLUSTER, 7, 12, JOIN_VOUCH_OTHER_CLUSTER},
	        /* the data's log position unknown (UINT64_MAX): never removed on a guess, and
	         * listed data restarts as it did before the logs were compared */
	        {true, 7, UINT64_MAX - 1, false, JOIN_PEER_REMOVED, 7, UINT64_MAX,
	         JOIN_VOUCH_BEHIND},
	        {true, 7, 5, true, JOIN_PEER_NO_ANSWER, 7, UINT64_MAX, JOIN_VOUCH_LISTED},
	        {true, 7, UINT64_MAX - 1, true, JOIN_PEER_MEMBER, 7, UINT64_MAX - 1,
	         JOIN_VOUCH_LISTED},
	        {true, 7, UINT64_MAX - 2, true, JOIN_PEER_MEMBER, 7, UINT64_MAX - 1,
	         JOIN_VOUCH_BEHIND},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(join_vouch_of(t[i].leader, t[i].leader_cluster, t[i].leader_index,
		                            t[i].lists_me, t[i].peer, t[i].data_cluster,
		                            t[i].data_commit) == t[i].want,
		              "row %zu", i);
}
END_TEST

START_TEST(test_action_names)
{
	static const struct {
		enum join_action a;
		const char *name;
	} t[] = {
	        {JOIN_RESTART, "restart"}, {JOIN_BOOTSTRAP, "bootstrap"},
	        {JOIN_REUSE, "reuse"},     {JOIN_ADD, "add"},
	        {JOIN_REPLACE, "replace"}, {JOIN_QUARANTINE, "quarantine"},
	        {JOIN_PROBE, "probe"},     {JOIN_CONFIRM, "confirm"},
	        {JOIN_WAIT, "wait"},       {JOIN_WAIT_PEERS, "wait-peers"},
	        {JOIN_REFUSE, "refuse"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_str_eq(join_action_name(t[i].a), t[i].name);
}
END_TEST

static const struct {
	unsigned voters, healthy_others;
	bool target_is_voter, keeps;
} removals[] = {
        {3, 2, true, true},                        /* 3 → 2, both healthy */
        {3, 1, true, false},                       /* 3 → 2 with one healthy: no majority */
        {5, 3, true, true},                        /* 5 → 4, 3 healthy */
        {5, 2, true, false},                       /* 5 → 4, 2 healthy */
        {2, 1, true, true},                        /* 2 → 1 */
        {2, 0, true, false},  {1, 0, true, false}, /* never the last member */
        {0, 0, true, false},  {0, 0, false, false},
        {3, 2, false, true},                       /* a learner: the 3 voters stay, 2 healthy */
        {3, 1, false, false}, {1, 1, false, true}, /* a learner beside one healthy voter */
        {1, 0, false, false},
};

START_TEST(test_remove_keeps_quorum)
{
	ck_assert_msg(join_remove_keeps_quorum(removals[_i].voters, removals[_i].healthy_others,
	                                       removals[_i].target_is_voter) == removals[_i].keeps,
	              "voters=%u healthy_others=%u target_is_voter=%d", removals[_i].voters,
	              removals[_i].healthy_others, removals[_i].target_is_voter);
}
END_TEST

/* The one refusal of a removal, as etcd-join and etcd-leave print it. */
START_TEST(test_removal_check)
{
	static const struct {
		struct membership_survey sv;
		int r;
		const char *why;
	} cases[] = {
	        /* not listed: nothing to guard */
	        {{.found = false, .voters = 3, .healthy_others = 0}, 0, ""},
	        {{.found = true, .target_voter = true, .voters = 3, .healthy_others = 2}, 0, ""},
	        {{.found = true, .target_voter = true, .voters = 3, .healthy_others = 1},
	         EXIT_REFUSED,
	         "refusing to leave: 1 of the other 2 voters are healthy, and 2 of 2 would be "
	         "needed for quorum after the removal"},
	        {{.found = true, .target_voter = true, .voters = 5, .healthy_others = 1},
	         EXIT_REFUSED,
	         "refusing to leave: 1 of the other 4 voters are healthy, and 3 of 4 would be "
	         "needed for quorum after the removal"},
	        /* a learner: the voters stay as they are */
	        {{.found = true, .target_voter = false, .voters = 3, .healthy_others = 2}, 0, ""},
	        {{.found = true, .target_voter = false, .voters = 3, .healthy_others = 1},
	         EXIT_REFUSED,
	         "refusing to leave: 1 of the other 3 voters are healthy, and 2 of 3 would be "
	         "needed for quorum after the removal"},
	        /* the last voter */
	        {{.found = true, .target_voter = true, .voters = 1, .healthy_others = 0},
	         EXIT_REFUSED,
	         "refusing to leave: no voting member would be left"},
	        {{.found = true, .target_voter = false, .voters = 0, .healthy_others = 0},
	         EXIT_REFUSED,
	         "refusing to leave: no voting member would be left"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[512] = "";

		ck_assert_int_eq(membership_removal_check(&cases[i].sv, "leave", why, sizeof(why)),
		                 cases[i].r);
		ck_assert_str_eq(why, cases[i].why);
	}
}
END_TEST

/* etcd-clean's verdict over every input: data in use is never touched, only partial or
 * tombstoned data moves, a symlink is never moved, and nothing else decides a move. */
START_TEST(test_clean_table)
{
	static const enum datadir_state states[] = {DATADIR_EMPTY, DATADIR_VALID, DATADIR_PARTIAL,
	                                            DATADIR_IN_USE};
	static const struct {
		enum datadir_state data;
		bool tomb, link, dangling;
		enum clean_action want;
	} rows[] = {
	        {DATADIR_EMPTY, false, false, false, CLEAN_KEEP},
	        {DATADIR_VALID, false, false, false, CLEAN_KEEP},
	        {DATADIR_VALID, true, false, false, CLEAN_MOVE_LEFT},
	        {DATADIR_PARTIAL, false, false, false, CLEAN_MOVE_PARTIAL},
	        {DATADIR_PARTIAL, true, false, false, CLEAN_MOVE_PARTIAL},
	        {DATADIR_IN_USE, true, false, false, CLEAN_REFUSE_IN_USE},
	        {DATADIR_IN_USE, false, true, true, CLEAN_REFUSE_IN_USE},
	        {DATADIR_VALID, true, true, false, CLEAN_REFUSE_SYMLINK},
	        {DATADIR_PARTIAL, false, true, false, CLEAN_REFUSE_SYMLINK},
	        {DATADIR_VALID, false, true, false, CLEAN_KEEP},
	        {DATADIR_EMPTY, false, true, true, CLEAN_REFUSE_DANGLING},
	        {DATADIR_PARTIAL, false, true, true, CLEAN_REFUSE_SYMLINK},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct clean_input in = {rows[i].data, rows[i].tomb, rows[i].link,
		                         rows[i].dangling};

		ck_assert_msg(clean_decide(&in) == rows[i].want, "row %zu: %d, want %d", i,
		              clean_decide(&in), rows[i].want);
	}
	/* the rules over all inputs */
	for (size_t d = 0; d < sizeof(states) / sizeof(states[0]); d++)
		for (unsigned bits = 0; bits < 8; bits++) {
			struct clean_input in = {states[d], bits & 1, bits & 2,
			                         (bits & 2) && (bits & 4)};
			enum clean_action a = clean_decide(&in);
			bool moves = a == CLEAN_MOVE_PARTIAL || a == CLEAN_MOVE_LEFT;

			if (in.data == DATADIR_IN_USE)
				ck_assert_int_eq(a, CLEAN_REFUSE_IN_USE);
			if (moves)
				ck_assert(!in.is_link);
			if (moves && in.data == DATADIR_VALID)
				ck_assert(in.tombstoned && a == CLEAN_MOVE_LEFT);
			if (in.data == DATADIR_EMPTY)
				ck_assert(!moves);
		}
}
END_TEST

/* ---- where this member is in the live list ---- */

#define MY_URL "http://etcd-1.etcd.default:2380"

static char *peer_mine[] = {MY_URL}, *peer_other[] = {"http://etcd-0.etcd.default:2380"},
            *client[] = {"http://etcd-1.etcd.default:2379"};

static const struct {
	uint64_t list_cluster; /* the list's cluster ID */
	uint64_t id_at_url;    /* the ID of the member with my peer URL, 0: none */
	bool started;          /* that member published its client URLs */
	bool wal;              /* a WAL of valid data: member 7 of cluster 100 */
	enum join_me want;
} mes[] = {
        {100, 7, true, true, JOIN_ME_SAME},
        {100, 9, true, true, JOIN_ME_STARTED}, /* my URL, another ID: replaced */
        {100, 9, false, true, JOIN_ME_UNSTARTED},
        {100, 0, false, true, JOIN_ME_SAME},   /* my ID under another URL is still me */
        {200, 7, true, true, JOIN_ME_STARTED}, /* my ID, but in another cluster */
        {200, 0, false, true, JOIN_ME_ABSENT},
        {100, 7, true, false, JOIN_ME_STARTED}, /* no WAL: by URL only */
        {100, 7, false, false, JOIN_ME_UNSTARTED},
        {100, 0, false, false, JOIN_ME_ABSENT},
};

START_TEST(test_find_me)
{
	struct etcd_member members[3] = {
	        {.id = 3,
	         .name = "etcd-0",
	         .peer_urls = peer_other,
	         .n_peer_urls = 1,
	         .client_urls = client,
	         .n_client_urls = 1},
	};
	struct etcd_member_list list = {
	        .cluster_id = mes[_i].list_cluster, .members = members, .n_members = 1};
	struct wal_metadata wal = {.member_id = 7, .cluster_id = 100};

	if (mes[_i].id_at_url)
		members[list.n_members++] =
		        (struct etcd_member){.id = mes[_i].id_at_url,
		                             .name = mes[_i].started ? "etcd-1" : "",
		                             .peer_urls = peer_mine,
		                             .n_peer_urls = 1,
		                             .client_urls = client,
		                             .n_client_urls = mes[_i].started ? 1 : 0};
	else /* my ID, under another peer URL */
		members[list.n_members++] = (struct etcd_member){.id = 7,
		                                                 .name = "x",
		                                                 .peer_urls = peer_other,
		                                                 .n_peer_urls = 1,
		                                                 .client_urls = client,
		                                                 .n_client_urls = 1};
	ck_assert_msg(join_find_me(&list, MY_URL, mes[_i].wal ? &wal : NULL) == mes[_i].want,
	              "row %d: %d", _i, join_find_me(&list, MY_URL, mes[_i].wal ? &wal : NULL));
}
END_TEST

/* ---- etcd-leave: does this pod leave for good? ---- */

#define NO_API (-ENXIO)

static const struct {
	enum leave_policy policy;
	unsigned ordinal, initial_size;
	int sts_read;
	unsigned replicas;
	bool leave;
	int exit_code;
	enum leave_why why;
	bool fell_back;
	unsigned leaving_from;
} leaves[] = {
        {LEAVE_POLICY_NEVER, 4, 3, 0, 3, false, 0, LEAVE_WHY_POLICY, false, 0},
        {LEAVE_POLICY_ALWAYS, 0, 3, 0, 3, true, 0, LEAVE_WHY_POLICY, false, ~0u},
        /* auto and scale-down: the ordinal against the replicas */
        {LEAVE_POLICY_AUTO, 4, 3, 0, 3, true, 0, LEAVE_WHY_REPLICAS, false, 3},
        {LEAVE_POLICY_AUTO, 3, 3, 0, 3, true, 0, LEAVE_WHY_REPLICAS, false, 3},
        {LEAVE_POLICY_AUTO, 2, 3, 0, 3, false, 0, LEAVE_WHY_REPLICAS, false, 3},
        {LEAVE_POLICY_AUTO, 2, 3, 0, 1, true, 0, LEAVE_WHY_REPLICAS, false, 1}, /* below initial */
        {LEAVE_POLICY_SCALE_DOWN, 4, 0, 0, 5, false, 0, LEAVE_WHY_REPLICAS, false, 5},
        {LEAVE_POLICY_SCALE_DOWN, 4, 0, 0, 2, true, 0, LEAVE_WHY_REPLICAS, false, 2},
        /* scaled to 0, or the StatefulSet being deleted: a whole-cluster stop */
        {LEAVE_POLICY_AUTO, 4, 3, 0, 0, false, 0, LEAVE_WHY_SCALED_TO_0, false, 0},
        {LEAVE_POLICY_SCALE_DOWN, 4, 3, 0, 0, false, 0, LEAVE_WHY_SCALED_TO_0, false, 0},
        {LEAVE_POLICY_AUTO, 4, 3, -ENOENT, 0, false, 0, LEAVE_WHY_DELETED, false, 0},
        {LEAVE_POLICY_SCALE_DOWN, 4, 3, -ENOENT, 0, false, 0, LEAVE_WHY_DELETED, false, 0},
        /* could not tell: stays, exit 1, whatever the ordinal */
        {LEAVE_POLICY_AUTO, 4, 3, -EACCES, 0, false, EXIT_FAILED, LEAVE_WHY_FORBIDDEN, false, 0},
        {LEAVE_POLICY_AUTO, 4, 3, -ETIMEDOUT, 0, false, EXIT_FAILED, LEAVE_WHY_UNKNOWN, false, 0},
        {LEAVE_POLICY_AUTO, 4, 3, -EBADMSG, 0, false, EXIT_FAILED, LEAVE_WHY_UNKNOWN, false, 0},
        {LEAVE_POLICY_SCALE_DOWN, 4, 3, NO_API, 0, false, EXIT_FAILED, LEAVE_WHY_UNKNOWN, false, 0},
        /* auto without any Kubernetes API: the ordinal against the initial size */
        {LEAVE_POLICY_AUTO, 4, 3, NO_API, 0, true, 0, LEAVE_WHY_INITIAL_SIZE, true, 3},
        {LEAVE_POLICY_AUTO, 2, 3, NO_API, 0, false, 0, LEAVE_WHY_INITIAL_SIZE, true, 3},
        {LEAVE_POLICY_AUTO, 4, 0, NO_API, 0, false, EXIT_USAGE, LEAVE_WHY_NO_SIZE, true, 0},
        /* above-initial never asks the API */
        {LEAVE_POLICY_ABOVE_INITIAL, 3, 3, -EACCES, 9, true, 0, LEAVE_WHY_INITIAL_SIZE, false, 3},
        {LEAVE_POLICY_ABOVE_INITIAL, 2, 3, 0, 1, false, 0, LEAVE_WHY_INITIAL_SIZE, false, 3},
        {LEAVE_POLICY_ABOVE_INITIAL, 9, 0, 0, 1, false, EXIT_USAGE, LEAVE_WHY_NO_SIZE, false, 0},
};

START_TEST(test_leave_table)
{
	struct leave_input in = {.policy = leaves[_i].policy,
	                         .ordinal = leaves[_i].ordinal,
	                         .initial_size = leaves[_i].initial_size,
	                         .sts_read = leaves[_i].sts_read,
	                         .replicas = leaves[_i].replicas};
	struct leave_verdict v = leave_decide(&in);

	ck_assert_msg(v.leave == leaves[_i].leave && v.exit_code == leaves[_i].exit_code &&
	                      v.why == leaves[_i].why && v.fell_back == leaves[_i].fell_back,
	              "row %d: leave=%d exit=%d why=%d fell_back=%d", _i, v.leave, v.exit_code,
	              v.why, v.fell_back);
	if (v.leave)
		ck_assert_uint_eq(v.leaving_from, leaves[_i].leaving_from);
	/* a verdict that fails never removes */
	ck_assert(!(v.exit_code && v.leave));
	ck_assert(leave_needs_replicas(in.policy) ==
	          (in.policy == LEAVE_POLICY_AUTO || in.policy == LEAVE_POLICY_SCALE_DOWN));
}
END_TEST

static Suite *decide_suite(void)
{
	Suite *s = suite_create("decide");
	TCase *tc = tcase_create("join");

	/* a quarter of a million combinations: give valgrind the time */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_decide_table);
	tcase_add_test(tc, test_vouch);
	tcase_add_test(tc, test_action_names);
	tcase_add_test(tc, test_removal_check);
	tcase_add_test(tc, test_clean_table);
	tcase_add_loop_test(tc, test_remove_keeps_quorum, 0,
	                    sizeof(removals) / sizeof(removals[0]));
	tcase_add_loop_test(tc, test_find_me, 0, sizeof(mes) / sizeof(mes[0]));
	tcase_add_loop_test(tc, test_leave_table, 0, sizeof(leaves) / sizeof(leaves[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(decide_suite());
	int failures;

	srunner_run_all(sr, CK_ENV);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
