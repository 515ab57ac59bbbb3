/* Unit tests of common/etcdargs: the etcd command line etcd-join execs passes each setting
 * exactly once, whether it comes from us, from flags after "--" or from ETCD_* variables. */
#include "etcdargs.h"

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PEER   "http://etcd-1.etcd.default:2380"
#define CLIENT "http://etcd-1.etcd.default:2379"
#define CLUSTER                                                                                    \
	"etcd-0=http://etcd-0.etcd.default:2380,etcd-1=http://etcd-1.etcd.default:2380,"           \
	"etcd-2=http://etcd-2.etcd.default:2380"

static char *const no_env[] = {NULL};

static struct etcdargs_input bootstrap(void)
{
	return (struct etcdargs_input){
	        .etcd = "/usr/bin/etcd",
	        .name = "etcd-1",
	        .data_dir = "/var/run/etcd/default.etcd",
	        .listen_peer_url = "http://0.0.0.0:2380",
	        .listen_client_url = "http://0.0.0.0:2379",
	        .advertise_peer_url = PEER,
	        .advertise_client_url = CLIENT,
	        .initial_cluster = CLUSTER,
	        .initial_state = "new",
	        .token = "etcd-default",
	        .envp = no_env,
	};
}

static struct etcdargs_input restart(void)
{
	struct etcdargs_input in = bootstrap();

	in.initial_cluster = NULL;
	in.initial_state = NULL;
	in.token = NULL;
	return in;
}

static size_t count(char **v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static bool has(char **v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Does any argument start with prefix? */
static bool has_prefix(char **v, const char *prefix)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strncmp(v[i], prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

static void assert_argv(const struct etcdargs *a, const char *const *want)
{
	size_t n = 0;

	while (want[n])
		n++;
	ck_assert_uint_eq(a->argc, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(a->argv[i], want[i]);
	ck_assert_ptr_null(a->argv[n]);
}

START_TEST(test_bootstrap)
{
	static const char *const want[] = {
	        "/usr/bin/etcd",
	        "--name=etcd-1",
	        "--data-dir=/var/run/etcd/default.etcd",
	        "--listen-peer-urls=http://0.0.0.0:2380",
	        "--listen-client-urls=http://0.0.0.0:2379",
	        "--initial-advertise-peer-urls=" PEER,
	        "--advertise-client-urls=" CLIENT,
	        "--initial-cluster=" CLUSTER,
	        "--initial-cluster-state=new",
	        "--initial-cluster-token=etcd-default",
	        NULL,
	};
	struct etcdargs_input in = bootstrap();
	struct etcdargs a;
	struct error err;

	error_clear(&err);
	ck_assert_int_eq(etcdargs_build(&in, &a, &err), 0);
	assert_argv(&a, want);
	ck_assert_uint_eq(count(a.unset), 0);
	ck_assert_uint_eq(count(a.yielded), 0);
	etcdargs_free(&a);
}
END_TEST

START_TEST(test_restart)
{
	static const char *const want[] = {
	        "/usr/bin/etcd",
	        "--name=etcd-1",
	        "--data-dir=/var/run/etcd/default.etcd",
	        "--listen-peer-urls=http://0.0.0.0:2380",
	        "--listen-client-urls=http://0.0.0.0:2379",
	        "--initial-advertise-peer-urls=" PEER,
	        "--advertise-client-urls=" CLIENT,
	        NULL,
	};
	struct etcdargs_input in = restart();
	struct etcdargs a;
	struct error err;

	ck_assert_int_eq(etcdargs_build(&in, &a, &err), 0);
	assert_argv(&a, want);
	ck_assert(!has_prefix(a.argv, "--initial-cluster"));
	etcdargs_free(&a);
}
END_TEST

START_TEST(test_extra_passed_through)
{
	char *extra[] = {"--heartbeat-interval=200", "--election-timeout", "2000"};
	struct etcdargs_input in = bootstrap();
	struct etcdargs a;
	struct error err;

	in.extra = extra;
	in.n_extra = 3;
	ck_assert_int_eq(etcdargs_build(&in, &a, &err), 0);
	ck_assert_uint_eq(a.argc, 13);
	ck_assert_str_eq(a.argv[10], "--heartbeat-interval=200");
	ck_assert_str_eq(a.argv[11], "--election-timeout");
	ck_assert_str_eq(a.argv[12], "2000");
	etcdargs_free(&a);
}
END_TEST

/* Owned flags given after "--", in each of etcd's spellings. */
static const struct {
	const char *args[2];
	const char *flag;
} owned[] = {
        {{"--name=x"}, "name"},
        {{"-name", "x"}, "name"},
        {{"--name", "x"}, "name"},
        {{"--data-dir=/tmp/x"}, "data-dir"},
        {{"--initial-cluster-state", "existing"}, "initial-cluster-state"},
        {{"--initial-cluster=a=http://a:2380"}, "initial-cluster"},
        {{"-initial-advertise-peer-urls=http://x:2380"}, "initial-advertise-peer-urls"},
};

START_TEST(test_owned_flag_after_dashdash)
{
	struct etcdargs_input in = bootstrap();
	struct etcdargs a = {0};
	struct error err;

	in.extra = (char *const *)owned[_i].args;
	in.n_extra = owned[_i].args[1] ? 2 : 1;
	error_clear(&err);
	ck_assert_int_eq(etcdargs_build(&in, &a, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, owned[_i].flag), "'%s' not in: %s", owned[_i].flag, err.msg);
	ck_assert_ptr_null(a.argv);
}
END_TEST

/* --wal-dir is refused wherever it is given: after "--" in each spelling, or as
 * ETCD_WAL_DIR, by the build and by the checks run before anything is done. */
START_TEST(test_wal_dir_refused)
{
	static const char *const spellings[][2] = {
	        {"--wal-dir=/wal", NULL}, {"-wal-dir", "/wal"}, {"--wal-dir", "/wal"}};
	char *env[] = {"ETCD_WAL_DIR=/wal", NULL};
	struct etcdargs_input in = restart();
	struct etcdargs a = {0};
	struct error err;

	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		in.extra = (char *const *)spellings[i];
		in.n_extra = spellings[i][1] ? 2 : 1;
		error_clear(&err);
		ck_assert_int_eq(etcdargs_build(&in, &a, &err), -EINVAL);
		ck_assert_msg(strstr(err.msg, "--wal-dir") && strstr(err.msg, "not supported"),
		              "%s", err.msg);
		ck_assert_ptr_null(a.argv);
		error_clear(&err);
		ck_assert_int_eq(etcdargs_check_extra(in.extra, in.n_extra, &err), -EINVAL);
		ck_assert_ptr_nonnull(strstr(err.msg, "--wal-dir"));
	}
	in.extra = NULL;
	in.n_extra = 0;
	in.envp = env;
	error_clear(&err);
	ck_assert_int_eq(etcdargs_build(&in, &a, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ETCD_WAL_DIR"));
	error_clear(&err);
	ck_assert_int_eq(etcdargs_check_env(env, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ETCD_WAL_DIR"));
	/* a flag that only starts alike is not it */
	{
		char *other[] = {"--wal-dirx=/x"};

		in.envp = NULL;
		in.extra = other;
		in.n_extra = 1;
		ck_assert_int_eq(etcdargs_build(&in, &a, &err), 0);
		etcdargs_free(&a);
	}
}
END_TEST

/* --config-file would make etcd ignore every flag etcd-join gives it: refused either way. */
START_TEST(test_config_file_refused)
{
	char *extra[] = {"--config-file=/etc/etcd.yaml"};
	char *extra2[] = {"-config-file", "/etc/etcd.yaml"};
	char *env[] = {"ETCD_CONFIG_FILE=/etc/etcd.yaml", NULL};
	struct etcdargs_input in = bootstrap();
	struct etcdargs a = {0};
	struct error err;

	in.extra = extra;
	in.n_extra = 1;
	error_clear(&err);
	ck_assert_int_eq(etcdargs_build(&in, &a, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "--config-file") && strstr(err.msg, "ignores every flag"),
	              "%s", err.msg);
	ck_assert_int_eq(etcdargs_check_extra(extra2, 2, &err), -EINVAL);
	in.extra = NULL;
	in.n_extra = 0;
	in.envp = env;
	ck_assert_int_eq(etcdargs_build(&in, &a, &err), -EINVAL);
	ck_assert_int_eq(etcdargs_check_env(env, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ETCD_CONFIG_FILE"));
}
END_TEST

START_TEST(test_owned_flag_on_restart)
{
	char *extra[] = {"--initial-cluster-state", "existing"};
	struct etcdargs_input in = restart();
	struct etcdargs a = {0};
	struct error err;

	in.extra = extra;
	in.n_extra = 2;
	ck_assert_int_eq(etcdargs_build(&in, &a, &err), -EINVAL);
}
END_TEST

START_TEST(test_owned_env)
{
	char *env[] = {"ETCD_NAME=x", NULL};
	char *env2[] = {"ETCD_INITIAL_CLUSTER_STATE=existing", NULL};
	struct etcdargs_input in = bootstrap();
	struct etcdargs a = {0};
	struct error err;

	error_clear(&err);
	in.envp = env;
	ck_assert_int_eq(etcdargs_build(&in, &a, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ETCD_NAME"));
	in.envp = env2;
	ck_assert_int_eq(etcdargs_build(&in, &a, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ETCD_INITIAL_CLUSTER_STATE"));
}
END_TEST

/* Checked before anything is done, whatever the decision will be: a variable of a flag
 * etcd-join decides, on a restart too. ETCD_DATA_DIR is an input, and the flags the user
 * may choose are fine. */
START_TEST(test_check_env)
{
	static const char *const refused[] = {
	        "ETCD_NAME=x",
	        "ETCD_INITIAL_CLUSTER=a=http://a:2380",
	        "ETCD_INITIAL_CLUSTER_STATE=existing",
	        "ETCD_INITIAL_ADVERTISE_PEER_URLS=http://a:2380",
	};
	struct error err;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char *envp[] = {"PATH=/bin", (char *)refused[i], NULL};
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(refused[i], "="), refused[i]);
		error_clear(&err);
		ck_assert_int_eq(etcdargs_check_env(envp, &err), -EINVAL);
		ck_assert_msg(strstr(err.msg, name), "'%s' does not name %s", err.msg, name);
	}
	{
		char *envp[] = {"ETCD_DATA_DIR=/data",
		                "ETCD_INITIAL_CLUSTER_TOKEN=t",
		                "ETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379",
		                "ETCD_NAMEX=1",
		                "XETCD_NAME=1",
		                NULL};

		ck_assert_int_eq(etcdargs_check_env(envp, &err), 0);
		ck_assert_int_eq(etcdargs_check_env(NULL, &err), 0);
	}
}
END_TEST

START_TEST(test_user_listen_url_wins)
{
	char *extra[] = {"--listen-client-urls=http://127.0.0.1:2379,http://10.0.0.1:2379"};
	char *env[] = {"ETCD_LISTEN_CLIENT_URLS=http://1.2.3.4:2379", NULL};
	struct etcdargs_input in = bootstrap();
	struct etcdargs a;
	struct error err;

	in.extra = extra;
	in.n_extra = 1;
	in.envp = env;
	ck_assert_int_eq(etcdargs_build(&in, &a, &err), 0);
	ck_assert(!has(a.argv, "--listen-client-urls=http://0.0.0.0:2379"));
	ck_assert(has(a.argv, extra[0]));
	ck_assert_uint_eq(count(a.yielded), 1);
	ck_assert_str_eq(a.yielded[0], "listen-client-urls");
	/* the flag wins over the variable: the variable must go */
	ck_assert(has(a.unset, "ETCD_LISTEN_CLIENT_URLS"));
	etcdargs_free(&a);
}
END_TEST

START_TEST(test_user_token_env_wins)
{
	char *env[] = {"PATH=/bin", "ETCD_INITIAL_CLUSTER_TOKEN=mine", NULL};
	struct etcdargs_input in = bootstrap();
	struct etcdargs a;
	struct error err;

	in.envp = env;
	ck_assert_int_eq(etcdargs_build(&in, &a, &err), 0);
	ck_assert(!has_prefix(a.argv, "--initial-cluster-token"));
	ck_assert_uint_eq(a.argc, 9);
	ck_assert_uint_eq(count(a.yielded), 1);
	ck_assert_str_eq(a.yielded[0], "initial-cluster-token");
	/* etcd reads it from the environment: it stays */
	ck_assert(!has(a.unset, "ETCD_INITIAL_CLUSTER_TOKEN"));
	etcdargs_free(&a);
}
END_TEST

/* Every flag in argv whose ETCD_* variable is set is in unset; nothing else is. */
START_TEST(test_unset)
{
	char *extra[] = {"--heartbeat-interval=200", "-snapshot-count", "5000"};
	char *env[] = {
	        "ETCD_DATA_DIR=/var/run/etcd/default.etcd", /* an input, passed as a flag too */
	        "ETCD_HEARTBEAT_INTERVAL=100",
	        "ETCD_SNAPSHOT_COUNT=1",
	        "ETCD_ELECTION_TIMEOUT=1000", /* no flag: stays */
	        "ETCD_DATA_DIR_X=1",          /* not the same variable */
	        "HOME=/root",
	        NULL,
	};
	struct etcdargs_input in = bootstrap();
	struct etcdargs a;
	struct error err;

	in.extra = extra;
	in.n_extra = 3;
	in.envp = env;
	ck_assert_int_eq(etcdargs_build(&in, &a, &err), 0);
	ck_assert(has(a.argv, "--data-dir=/var/run/etcd/default.etcd"));
	ck_assert(has(a.unset, "ETCD_DATA_DIR"));
	ck_assert(has(a.unset, "ETCD_HEARTBEAT_INTERVAL"));
	ck_assert(has(a.unset, "ETCD_SNAPSHOT_COUNT"));
	ck_assert_uint_eq(count(a.unset), 3);
	ck_assert_uint_eq(count(a.yielded), 0);
	etcdargs_free(&a);
}
END_TEST

START_TEST(test_free_null)
{
	etcdargs_free(NULL);
}
END_TEST

START_TEST(test_env_name)
{
	char buf[64];

	etcdargs_env_name("initial-cluster-token", buf, sizeof(buf));
	ck_assert_str_eq(buf, "ETCD_INITIAL_CLUSTER_TOKEN");
	etcdargs_env_name("name", buf, sizeof(buf));
	ck_assert_str_eq(buf, "ETCD_NAME");
	etcdargs_env_name("data-dir", buf, 8);
	ck_assert_str_eq(buf, "ETCD_DA"); /* cut to the buffer */
	etcdargs_env_name("name", buf, 3);
	ck_assert_str_eq(buf, "ET");
}
END_TEST

/* The user's value of an etcd flag: the last one after "--" in either form, else its
 * variable. */
START_TEST(test_user_value)
{
	char *extra[] = {"--initial-cluster-token=a", "--snapshot-count", "5",
	                 "--initial-cluster-token", "b"};
	char *envp[] = {"ETCD_INITIAL_CLUSTER_TOKEN=env", "ETCD_SNAPSHOT_COUNT=9", NULL};

	ck_assert_str_eq(etcdargs_user_value(extra, 5, envp, "initial-cluster-token"), "b");
	ck_assert_str_eq(etcdargs_user_value(extra, 1, envp, "initial-cluster-token"), "a");
	ck_assert_str_eq(etcdargs_user_value(extra, 0, envp, "initial-cluster-token"), "env");
	ck_assert_str_eq(etcdargs_user_value(extra, 5, envp, "snapshot-count"), "5");
	ck_assert_ptr_null(etcdargs_user_value(extra, 5, NULL, "name"));
	/* the flag last, without its value: none */
	ck_assert_ptr_null(etcdargs_user_value(extra + 3, 1, NULL, "initial-cluster-token"));
}
END_TEST

static Suite *etcdargs_suite(void)
{
	Suite *s = suite_create("etcdargs");
	TCase *tc = tcase_create("build");

	tcase_add_test(tc, test_bootstrap);
	tcase_add_test(tc, test_user_value);
	tcase_add_test(tc, test_restart);
	tcase_add_test(tc, test_extra_passed_through);
	tcase_add_loop_test(tc, test_owned_flag_after_dashdash, 0,
	                    sizeof(owned) / sizeof(owned[0]));
	tcase_add_test(tc, test_owned_flag_on_restart);
	tcase_add_test(tc, test_wal_dir_refused);
	tcase_add_test(tc, test_config_file_refused);
	tcase_add_test(tc, test_owned_env);
	tcase_add_test(tc, test_check_env);
	tcase_add_test(tc, test_user_listen_url_wins);
	tcase_add_test(tc, test_user_token_env_wins);
	tcase_add_test(tc, test_unset);
	tcase_add_test(tc, test_free_null);
	tcase_add_test(tc, test_env_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(etcdargs_suite());
	int failures;

	srunner_run_all(sr, CK_ENV);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
