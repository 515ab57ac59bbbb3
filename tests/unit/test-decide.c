/* Unit tests of common/decide: etcd-join's decision over every combination of its inputs,
 * against design.md "etcd-join: the decision", and the quorum guard of a removal. */
#include "decide.h"

#include "exitcode.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define ANY (-1)

enum size_case {
	SIZE_MISSING, /* INITIAL_CLUSTER_SIZE not set */
	SIZE_INITIAL, /* ordinal < initial size */
	SIZE_LATER,   /* ordinal >= initial size */
};

/* The expected decision: the first row that matches. */
static const struct row {
	int data, cluster, me, size, formed;
	enum join_action action;
	int exit_code;   /* for JOIN_REFUSE */
	const char *tag; /* for JOIN_QUARANTINE */
} rows[] = {
        {DATADIR_IN_USE, ANY, ANY, ANY, ANY, JOIN_REFUSE, EXIT_REFUSED, NULL},
        {DATADIR_PARTIAL, ANY, ANY, ANY, ANY, JOIN_QUARANTINE, 0, "partial"},

        {DATADIR_VALID, JOIN_CLUSTER_UNKNOWN, ANY, ANY, ANY, JOIN_PROBE, 0, NULL},
        {DATADIR_VALID, JOIN_CLUSTER_NONE, ANY, ANY, ANY, JOIN_RESTART, 0, NULL},
        {DATADIR_VALID, JOIN_CLUSTER_ANSWERS, JOIN_ME_SAME, ANY, ANY, JOIN_RESTART, 0, NULL},
        {DATADIR_VALID, JOIN_CLUSTER_ANSWERS, ANY, ANY, ANY, JOIN_QUARANTINE, 0, "removed"},

        {DATADIR_EMPTY, JOIN_CLUSTER_UNKNOWN, ANY, ANY, ANY, JOIN_PROBE, 0, NULL},
        {DATADIR_EMPTY, JOIN_CLUSTER_NONE, ANY, SIZE_MISSING, ANY, JOIN_REFUSE, EXIT_USAGE, NULL},
        {DATADIR_EMPTY, JOIN_CLUSTER_NONE, ANY, SIZE_INITIAL, false, JOIN_BOOTSTRAP, 0, NULL},
        {DATADIR_EMPTY, JOIN_CLUSTER_NONE, ANY, ANY, ANY, JOIN_WAIT, 0, NULL},
        {DATADIR_EMPTY, JOIN_CLUSTER_ANSWERS, JOIN_ME_UNSTARTED, ANY, ANY, JOIN_REUSE, 0, NULL},
        {DATADIR_EMPTY, JOIN_CLUSTER_ANSWERS, JOIN_ME_STARTED, ANY, ANY, JOIN_REPLACE, 0, NULL},
        {DATADIR_EMPTY, JOIN_CLUSTER_ANSWERS, JOIN_ME_SAME, ANY, ANY, JOIN_REPLACE, 0, NULL},
        {DATADIR_EMPTY, JOIN_CLUSTER_ANSWERS, JOIN_ME_ABSENT, ANY, ANY, JOIN_ADD, 0, NULL},
};

/* (ordinal, initial size) pairs of each size case */
static const struct {
	unsigned ordinal, size;
	enum size_case size_case;
} sizes[] = {
        {0, 0, SIZE_MISSING}, {4, 0, SIZE_MISSING}, {0, 3, SIZE_INITIAL}, {2, 3, SIZE_INITIAL},
        {3, 3, SIZE_LATER},   {7, 3, SIZE_LATER},   {0, 1, SIZE_INITIAL}, {1, 1, SIZE_LATER},
};

#define N_DATA         4
#define N_CLUSTER      3
#define N_ME           4
#define N_SIZES        (sizeof(sizes) / sizeof(sizes[0]))
#define N_COMBINATIONS (N_DATA * N_CLUSTER * N_ME * N_SIZES * 2)

static bool matches(int want, int got)
{
	return want == ANY || want == got;
}

/* Test number i is one combination of the inputs. */
START_TEST(test_decide_table)
{
	unsigned i = (unsigned)_i;
	struct join_input in = {
	        .data = (enum datadir_state)(i % N_DATA),
	        .cluster = (enum join_cluster)(i / N_DATA % N_CLUSTER),
	        .me = (enum join_me)(i / (N_DATA * N_CLUSTER) % N_ME),
	        .ordinal = sizes[i / (N_DATA * N_CLUSTER * N_ME) % N_SIZES].ordinal,
	        .initial_size = sizes[i / (N_DATA * N_CLUSTER * N_ME) % N_SIZES].size,
	        .formed = i / (N_DATA * N_CLUSTER * N_ME * N_SIZES) % 2,
	};
	enum size_case size_case = sizes[i / (N_DATA * N_CLUSTER * N_ME) % N_SIZES].size_case;
	struct join_decision d = join_decide(&in);
	const struct row *row = NULL;
	char what[160];

	snprintf(what, sizeof(what), "data=%s cluster=%d me=%d ordinal=%u size=%u formed=%d",
	         datadir_state_name(in.data), in.cluster, in.me, in.ordinal, in.initial_size,
	         in.formed);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]) && !row; r++)
		if (matches(rows[r].data, (int)in.data) &&
		    matches(rows[r].cluster, (int)in.cluster) && matches(rows[r].me, (int)in.me) &&
		    matches(rows[r].size, (int)size_case) && matches(rows[r].formed, in.formed))
			row = &rows[r];
	ck_assert_msg(row != NULL, "no row for %s", what);
	ck_assert_msg(d.action == row->action, "%s: '%s', expected '%s'", what,
	              join_action_name(d.action), join_action_name(row->action));
	if (d.action == JOIN_REFUSE)
		ck_assert_msg(d.exit_code == row->exit_code, "%s: exit code %d", what, d.exit_code);
	if (d.action == JOIN_QUARANTINE)
		ck_assert_msg(d.tag && strcmp(d.tag, row->tag) == 0, "%s: tag '%s'", what,
		              d.tag ? d.tag : "(null)");
	ck_assert_msg(d.reason && d.reason[0], "%s: no reason", what);

	/* The safety rules, whatever the table above says. */
	if (d.action == JOIN_BOOTSTRAP)
		ck_assert_msg(in.data == DATADIR_EMPTY && in.cluster == JOIN_CLUSTER_NONE &&
		                      in.ordinal < in.initial_size && !in.formed,
		              "bootstrap for %s", what);
	if (d.action == JOIN_REFUSE)
		ck_assert_msg(d.exit_code == EXIT_REFUSED ||
		                      (d.exit_code == EXIT_USAGE && in.initial_size == 0),
		              "%s: refused with exit code %d", what, d.exit_code);
	if (in.data == DATADIR_IN_USE)
		ck_assert_msg(d.action == JOIN_REFUSE, "%s: a data dir in use is touched", what);
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
	        {JOIN_PROBE, "probe"},     {JOIN_WAIT, "wait"},
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

static Suite *decide_suite(void)
{
	Suite *s = suite_create("decide");
	TCase *tc = tcase_create("join");

	tcase_add_loop_test(tc, test_decide_table, 0, (int)N_COMBINATIONS);
	tcase_add_test(tc, test_action_names);
	tcase_add_loop_test(tc, test_remove_keeps_quorum, 0,
	                    sizeof(removals) / sizeof(removals[0]));
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
