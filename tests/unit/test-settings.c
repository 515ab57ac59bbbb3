/* Unit tests of common/settings: strict number and duration parsing, DNS names, the
 * defaults < environment < flags precedence and the one validation pass. */
#include "settings.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ORIGIN(s, key) ((s)->origin[(key)-SETTING_SET_NAME])

/* Every variable settings_load_env() reads: each test starts from none of them. */
static const char *const variables[] = {
        "SET_NAME",
        "SERVICE_NAME",
        "CLUSTER_NAMESPACE",
        "CLUSTER_DOMAIN",
        "INITIAL_CLUSTER_SIZE",
        "POD_NAME",
        "HOSTNAME",
        "ETCD_DATA_DIR",
        "CLIENT_PORT",
        "PEER_PORT",
        "ETCDAPI_VERSION",
        "ETCDCTL_USER",
        "ETCDCTL_PASSWORD",
        "ROOT_PASSWORD",
        "ROOT_PASSWORD_FILE",
        "ETCDCTL_CACERT",
        "ETCDCTL_CERT",
        "ETCDCTL_KEY",
        "ETCDCTL_ENDPOINTS",
        "ETCD_HOOKS_TIMEOUT",
        "ETCD_HOOKS_JOIN_TIMEOUT",
        "ETCD_HOOKS_PROMOTE_TIMEOUT",
        "ETCD_HOOKS_LEAVE_TIMEOUT",
        "ETCD_HOOKS_CLEAN_TIMEOUT",
        "ETCD_HOOKS_DEBUG",
        "ETCD_HOOKS_SERVICEACCOUNT_DIR",
        "ETCD_HOOKS_BOOTSTRAP_WAIT",
        "ETCD_HOOKS_QUARANTINE_KEEP",
};

static void clear_env(void)
{
	for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++)
		unsetenv(variables[i]);
}

/* A temp file holding content; the path is written into buf (at least 64 bytes). */
static void temp_file(char *buf, const char *content)
{
	int fd;

	strcpy(buf, "/tmp/test-settings-XXXXXX");
	fd = mkstemp(buf);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

START_TEST(test_init_defaults)
{
	struct settings s;

	settings_init(&s);
	ck_assert_str_eq(s.data_dir, SETTINGS_DEFAULT_DATA_DIR);
	ck_assert_str_eq(s.namespace, "default");
	ck_assert_uint_eq(s.client_port, 2379);
	ck_assert_uint_eq(s.peer_port, 2380);
	ck_assert_uint_eq(s.api, 3);
	ck_assert_ptr_null(s.set_name);
	ck_assert_ptr_null(s.name);
	ck_assert_uint_eq(s.initial_cluster_size, 0);
	ck_assert_str_eq(ORIGIN(&s, SETTING_DATA_DIR), "default");
	ck_assert_str_eq(s.sa_dir, "/var/run/secrets/kubernetes.io/serviceaccount");
	ck_assert_uint_eq(s.bootstrap_wait_ms, 120000);
	ck_assert_uint_eq(s.quarantine_keep, 3);
	settings_free(&s);
}
END_TEST

/* The settings of one program's decisions: the bootstrap wait, the quarantine retention,
 * the service account. */
START_TEST(test_program_settings)
{
	struct settings s;
	struct error err;

	settings_init(&s);
	setenv("ETCD_HOOKS_BOOTSTRAP_WAIT", "30s", 1);
	setenv("ETCD_HOOKS_QUARANTINE_KEEP", "5", 1);
	setenv("ETCD_HOOKS_SERVICEACCOUNT_DIR", "/sa", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), 0);
	ck_assert_uint_eq(s.bootstrap_wait_ms, 30000);
	ck_assert_uint_eq(s.quarantine_keep, 5);
	ck_assert_str_eq(s.sa_dir, "/sa");
	ck_assert_int_eq(settings_set(&s, SETTING_BOOTSTRAP_WAIT, "1500ms", &err), 0);
	ck_assert_uint_eq(s.bootstrap_wait_ms, 1500);
	ck_assert_int_eq(settings_set(&s, SETTING_QUARANTINE_KEEP, "1000", &err), 0);
	ck_assert_uint_eq(s.quarantine_keep, 1000);
	/* the timeout is left alone by the bootstrap wait */
	ck_assert_uint_eq(s.timeout_ms, 0);
	for (const char *const *v = (const char *const[]){"0", "-1", "1001", "x", "", NULL}; *v;
	     v++) {
		error_clear(&err);
		ck_assert_int_eq(settings_set(&s, SETTING_QUARANTINE_KEEP, *v, &err), -EINVAL);
		ck_assert_ptr_nonnull(strstr(err.msg, "--quarantine-keep"));
	}
	for (const char *const *v = (const char *const[]){"0", "0s", "x", "25h", NULL}; *v; v++) {
		error_clear(&err);
		ck_assert_int_eq(settings_set(&s, SETTING_BOOTSTRAP_WAIT, *v, &err), -EINVAL);
		ck_assert_ptr_nonnull(strstr(err.msg, "--bootstrap-wait"));
	}
	ck_assert_uint_eq(s.quarantine_keep, 1000);
	ck_assert_uint_eq(s.bootstrap_wait_ms, 1500);
	settings_free(&s);

	settings_init(&s);
	setenv("ETCD_HOOKS_QUARANTINE_KEEP", "0", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ETCD_HOOKS_QUARANTINE_KEEP"));
	settings_free(&s);
}
END_TEST

START_TEST(test_env_bad_number)
{
	struct settings s;
	struct error err;

	settings_init(&s);
	error_clear(&err);
	setenv("INITIAL_CLUSTER_SIZE", "abc", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "INITIAL_CLUSTER_SIZE") && strstr(err.msg, "'abc'"),
	              "the message does not name the variable and value: %s", err.msg);
	settings_free(&s);

	settings_init(&s);
	setenv("INITIAL_CLUSTER_SIZE", "0", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), -EINVAL);
	settings_free(&s);

	settings_init(&s);
	setenv("INITIAL_CLUSTER_SIZE", "3", 1);
	setenv("CLIENT_PORT", "65536", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "CLIENT_PORT"));
	settings_free(&s);
}
END_TEST

START_TEST(test_env_values)
{
	struct settings s;
	struct error err;

	settings_init(&s);
	setenv("INITIAL_CLUSTER_SIZE", "3", 1);
	setenv("SET_NAME", "etcd", 1);
	setenv("CLUSTER_DOMAIN", "cluster.local", 1);
	setenv("ETCD_DATA_DIR", "/data/etcd", 1);
	setenv("PEER_PORT", "2390", 1);
	setenv("ETCDAPI_VERSION", "2", 1);
	setenv("ETCD_HOOKS_TIMEOUT", "1500ms", 1);
	setenv("ETCD_HOOKS_DEBUG", "true", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), 0);
	ck_assert_uint_eq(s.initial_cluster_size, 3);
	ck_assert_str_eq(s.set_name, "etcd");
	ck_assert_str_eq(s.cluster_domain, "cluster.local");
	ck_assert_str_eq(s.data_dir, "/data/etcd");
	ck_assert_uint_eq(s.client_port, 2379);
	ck_assert_uint_eq(s.peer_port, 2390);
	ck_assert_uint_eq(s.api, 2);
	ck_assert_uint_eq(s.timeout_ms, 1500);
	ck_assert(s.debug);
	ck_assert_str_eq(ORIGIN(&s, SETTING_INITIAL_CLUSTER_SIZE), "INITIAL_CLUSTER_SIZE");
	ck_assert_str_eq(ORIGIN(&s, SETTING_CLIENT_PORT), "default");
	settings_free(&s);
}
END_TEST

START_TEST(test_env_pod_name_first)
{
	struct settings s;
	struct error err;

	settings_init(&s);
	setenv("POD_NAME", "etcd-1", 1);
	setenv("HOSTNAME", "other-2", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), 0);
	ck_assert_str_eq(s.name, "etcd-1");
	ck_assert_str_eq(ORIGIN(&s, SETTING_NAME), "POD_NAME");
	settings_free(&s);

	settings_init(&s);
	unsetenv("POD_NAME");
	ck_assert_int_eq(settings_load_env(&s, &err), 0);
	ck_assert_str_eq(s.name, "other-2");
	ck_assert_str_eq(ORIGIN(&s, SETTING_NAME), "HOSTNAME");
	settings_free(&s);
}
END_TEST

/* A program's own deadline variable wins over the shared one; a flag over both. */
START_TEST(test_program_timeout)
{
	struct settings s;
	struct error err;

	settings_init(&s);
	error_clear(&err);
	setenv("ETCD_HOOKS_TIMEOUT", "300s", 1);
	setenv("ETCD_HOOKS_LEAVE_TIMEOUT", "15s", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), 0);
	ck_assert_uint_eq(s.timeout_ms, 300000);
	ck_assert_str_eq(settings_origin(&s, SETTING_TIMEOUT), "ETCD_HOOKS_TIMEOUT");
	ck_assert_int_eq(settings_load_program_env(&s, "etcd-join", &err), 0);
	ck_assert_uint_eq(s.timeout_ms, 300000);
	ck_assert_int_eq(settings_load_program_env(&s, "etcd-leave", &err), 0);
	ck_assert_uint_eq(s.timeout_ms, 15000);
	ck_assert_str_eq(settings_origin(&s, SETTING_TIMEOUT), "ETCD_HOOKS_LEAVE_TIMEOUT");
	ck_assert_int_eq(settings_set(&s, SETTING_TIMEOUT, "5", &err), 0);
	ck_assert_uint_eq(s.timeout_ms, 5000);
	settings_free(&s);

	settings_init(&s);
	setenv("ETCD_HOOKS_PROMOTE_TIMEOUT", "soon", 1);
	ck_assert_int_eq(settings_load_program_env(&s, "etcd-promote", &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "ETCD_HOOKS_PROMOTE_TIMEOUT") && strstr(err.msg, "'soon'"),
	              "%s", err.msg);
	settings_free(&s);
	unsetenv("ETCD_HOOKS_TIMEOUT");
	unsetenv("ETCD_HOOKS_LEAVE_TIMEOUT");
	unsetenv("ETCD_HOOKS_PROMOTE_TIMEOUT");
}
END_TEST

START_TEST(test_secret_variables)
{
	ck_assert(settings_secret_variable("ETCDCTL_PASSWORD=x"));
	ck_assert(settings_secret_variable("ETCDCTL_USER=root"));
	ck_assert(settings_secret_variable("ETCDCTL_KEY=/k"));
	ck_assert(settings_secret_variable("ROOT_PASSWORD=x"));
	ck_assert(settings_secret_variable("ROOT_PASSWORD_FILE=/f"));
	ck_assert(settings_secret_variable("ROOT_PASSWORD="));
	ck_assert(!settings_secret_variable("ROOT_PASSWORDS=x"));
	ck_assert(!settings_secret_variable("ROOT_PASS=x"));
	ck_assert(!settings_secret_variable("ETCD_NAME=etcd-0"));
	ck_assert(!settings_secret_variable("MY_ETCDCTL_PASSWORD=x"));
}
END_TEST

/* One rule for flags and variables: empty is an error that names it, never "unset", and
 * nothing is taken from it. */
START_TEST(test_env_empty_is_an_error)
{
	static const char *const names[] = {
	        "POD_NAME",      "SET_NAME",           "CLIENT_PORT",
	        "ETCD_DATA_DIR", "ETCD_HOOKS_TIMEOUT", "INITIAL_CLUSTER_SIZE",
	};
	struct settings s;
	struct error err;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		settings_init(&s);
		error_clear(&err);
		setenv("HOSTNAME", "etcd-2", 1);
		setenv(names[i], "", 1);
		ck_assert_int_eq(settings_load_env(&s, &err), -EINVAL);
		ck_assert_msg(strstr(err.msg, names[i]) && strstr(err.msg, "is empty"), "%s",
		              err.msg);
		ck_assert_str_eq(s.data_dir, SETTINGS_DEFAULT_DATA_DIR);
		unsetenv(names[i]);
		settings_free(&s);
	}
	/* HOSTNAME is not a setting anyone wrote: empty, it is unset (the name then comes
	 * from gethostname(), not from it) */
	settings_init(&s);
	unsetenv("POD_NAME");
	setenv("HOSTNAME", "", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), 0);
	ck_assert_str_ne(ORIGIN(&s, SETTING_NAME), "HOSTNAME");
	ck_assert(!s.name || s.name[0]);
	settings_free(&s);
	/* the program's own deadline variable too */
	settings_init(&s);
	error_clear(&err);
	setenv("ETCD_HOOKS_CLEAN_TIMEOUT", "", 1);
	ck_assert_int_eq(settings_load_program_env(&s, "etcd-clean", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ETCD_HOOKS_CLEAN_TIMEOUT is empty"));
	unsetenv("ETCD_HOOKS_CLEAN_TIMEOUT");
	settings_free(&s);
}
END_TEST

START_TEST(test_flag_overrides_env)
{
	struct settings s;
	struct error err;

	settings_init(&s);
	setenv("CLIENT_PORT", "1234", 1);
	setenv("ETCD_DATA_DIR", "/from/env", 1);
	setenv("SET_NAME", "envset", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), 0);
	ck_assert_uint_eq(s.client_port, 1234);
	ck_assert_int_eq(settings_set(&s, SETTING_CLIENT_PORT, "4321", &err), 0);
	ck_assert_int_eq(settings_set(&s, SETTING_DATA_DIR, "/from/flag", &err), 0);
	ck_assert_uint_eq(s.client_port, 4321);
	ck_assert_str_eq(s.data_dir, "/from/flag");
	ck_assert_str_eq(s.set_name, "envset"); /* no flag: the environment stays */
	ck_assert_str_eq(ORIGIN(&s, SETTING_CLIENT_PORT), "flag");
	ck_assert_str_eq(ORIGIN(&s, SETTING_SET_NAME), "SET_NAME");
	ck_assert_int_eq(settings_set(&s, SETTING_DRY_RUN, NULL, &err), 0);
	ck_assert(s.dry_run);
	settings_free(&s);
}
END_TEST

START_TEST(test_flag_bad_values)
{
	struct settings s;
	struct error err;

	settings_init(&s);
	error_clear(&err);
	ck_assert_int_eq(settings_set(&s, SETTING_CLIENT_PORT, "x", &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "--client-port") && strstr(err.msg, "'x'"), "%s", err.msg);
	ck_assert_uint_eq(s.client_port, 2379);
	ck_assert_int_eq(settings_set(&s, SETTING_PEER_PORT, "0", &err), -EINVAL);
	ck_assert_int_eq(settings_set(&s, SETTING_TIMEOUT, "0", &err), -EINVAL);
	ck_assert_int_eq(settings_set(&s, SETTING_TIMEOUT, "1.5s", &err), -EINVAL);
	ck_assert_int_eq(settings_set(&s, SETTING_API, "4", &err), -EINVAL);
	ck_assert_int_eq(settings_set(&s, SETTING_INITIAL_CLUSTER_SIZE, "1001", &err), -EINVAL);
	ck_assert_int_eq(settings_set(&s, SETTING_KEY_END, "1", &err), -EINVAL);
	settings_free(&s);
}
END_TEST

/* settings_validate() on defaults changed by one flag must fail with -EINVAL and a message
 * containing `needle`. */
static void assert_invalid(enum setting_key key, const char *value, const char *needle)
{
	struct settings s;
	struct error err;

	settings_init(&s);
	error_clear(&err);
	ck_assert_int_eq(settings_set(&s, key, value, &err), 0);
	ck_assert_msg(settings_validate(&s, 0, &err) == -EINVAL, "'%s' was accepted", value);
	ck_assert_msg(strstr(err.msg, needle), "'%s' not in: %s", needle, err.msg);
	settings_free(&s);
}

/* A service account dir whose namespace file holds text. */
static void sa_dir_with(char *dir, const char *text)
{
	char path[128];
	FILE *f;

	strcpy(dir, "/tmp/test-settings-sa-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/namespace", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void sa_dir_remove(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/namespace", dir);
	unlink(path);
	rmdir(dir);
}

/* The namespace: CLUSTER_NAMESPACE or --namespace, else the service account's, else
 * (no such file) "default". */
START_TEST(test_validate_namespace_from_service_account)
{
	struct settings s;
	struct error err;
	char dir[64];

	sa_dir_with(dir, "prod\n");
	settings_init(&s);
	error_clear(&err);
	ck_assert_int_eq(settings_set(&s, SETTING_SA_DIR, dir, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), 0);
	ck_assert_str_eq(s.namespace, "prod");
	ck_assert_str_eq(ORIGIN(&s, SETTING_NAMESPACE), "service account");
	settings_free(&s);

	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_SA_DIR, dir, &err), 0);
	ck_assert_int_eq(settings_set(&s, SETTING_NAMESPACE, "etcd", &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), 0);
	ck_assert_str_eq(s.namespace, "etcd");
	settings_free(&s);
	sa_dir_remove(dir);

	sa_dir_with(dir, "Not_A_Label\n");
	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_SA_DIR, dir, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "'Not_A_Label'") && strstr(err.msg, dir), "%s", err.msg);
	settings_free(&s);
	sa_dir_remove(dir);

	/* no file there: the default */
	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_SA_DIR, "/nonexistent", &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), 0);
	ck_assert_str_eq(s.namespace, "default");
	settings_free(&s);

	/* a file that is there but cannot be read, or is empty: an error, never "default" */
	sa_dir_with(dir, "\n");
	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_SA_DIR, dir, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), -ENODATA);
	ck_assert_msg(strstr(err.msg, "it is empty") && strstr(err.msg, "CLUSTER_NAMESPACE"), "%s",
	              err.msg);
	settings_free(&s);
	sa_dir_remove(dir);
	settings_init(&s);
	ck_assert_int_eq(mkdir("/tmp/test-settings-sa-dir", 0700) == 0 || errno == EEXIST, 1);
	ck_assert_int_eq(mkdir("/tmp/test-settings-sa-dir/namespace", 0700) == 0 || errno == EEXIST,
	                 1);
	ck_assert_int_eq(settings_set(&s, SETTING_SA_DIR, "/tmp/test-settings-sa-dir", &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), -EISDIR);
	ck_assert_msg(strstr(err.msg, "cannot read the namespace"), "%s", err.msg);
	rmdir("/tmp/test-settings-sa-dir/namespace");
	rmdir("/tmp/test-settings-sa-dir");
	settings_free(&s);
}
END_TEST

START_TEST(test_validate_defaults)
{
	struct settings s;
	struct error err;

	settings_init(&s);
	ck_assert_int_eq(settings_validate(&s, 0, &err), 0);
	ck_assert_ptr_null(s.user);
	ck_assert_ptr_null(s.password);
	settings_free(&s);
}
END_TEST

START_TEST(test_validate_errors)
{
	assert_invalid(SETTING_DATA_DIR, "var/run/etcd", "'var/run/etcd'");
	assert_invalid(SETTING_DATA_DIR, "/", "root directory");
	assert_invalid(SETTING_DATA_DIR, "///", "root directory");
	assert_invalid(SETTING_CLIENT_PORT, "2380", "2380");
	assert_invalid(SETTING_SET_NAME, "Etcd", "'Etcd'");
	assert_invalid(SETTING_SERVICE, "etcd_svc", "'etcd_svc'");
	assert_invalid(SETTING_NAMESPACE, "kube.system", "'kube.system'");
	assert_invalid(SETTING_CLUSTER_DOMAIN, "cluster..local", "'cluster..local'");
	assert_invalid(SETTING_ENDPOINTS, "ftp://x:2379", "'ftp://x:2379'");
	assert_invalid(SETTING_ENDPOINTS, "http://x:2379,http://y:2379/path",
	               "'http://y:2379/path'");
	assert_invalid(SETTING_CACERT, "/nonexistent/ca.pem", "'/nonexistent/ca.pem'");
	/* read, then refused by every program: there is no v2 mode */
	assert_invalid(SETTING_API, "2", "ETCDAPI_VERSION=2");
}
END_TEST

/* etcd-join checks the hooks' deadline variables, and uses none of them. */
START_TEST(test_check_program_envs)
{
	struct error err;

	error_clear(&err);
	ck_assert_int_eq(settings_check_program_envs(&err), 0);
	setenv("ETCD_HOOKS_PROMOTE_TIMEOUT", "300s", 1);
	setenv("ETCD_HOOKS_CLEAN_TIMEOUT", "60", 1);
	ck_assert_int_eq(settings_check_program_envs(&err), 0);
	setenv("ETCD_HOOKS_LEAVE_TIMEOUT", "soon", 1);
	ck_assert_int_eq(settings_check_program_envs(&err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "ETCD_HOOKS_LEAVE_TIMEOUT"), "%s", err.msg);
	unsetenv("ETCD_HOOKS_LEAVE_TIMEOUT");
	setenv("ETCD_HOOKS_JOIN_TIMEOUT", "", 1);
	ck_assert_int_eq(settings_check_program_envs(&err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "ETCD_HOOKS_JOIN_TIMEOUT is empty"), "%s", err.msg);
	unsetenv("ETCD_HOOKS_JOIN_TIMEOUT");
	setenv("ETCD_HOOKS_LEAVE_POLICY", "sometimes", 1);
	ck_assert_int_eq(settings_check_program_envs(&err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "ETCD_HOOKS_LEAVE_POLICY must be") &&
	                      strstr(err.msg, "'sometimes'"),
	              "%s", err.msg);
	setenv("ETCD_HOOKS_LEAVE_POLICY", "never", 1);
	ck_assert_int_eq(settings_check_program_envs(&err), 0);
	unsetenv("ETCD_HOOKS_LEAVE_POLICY");
	unsetenv("ETCD_HOOKS_PROMOTE_TIMEOUT");
	unsetenv("ETCD_HOOKS_CLEAN_TIMEOUT");
}
END_TEST

/* An empty flag is an error, as an empty variable is; what the variable or the default
 * gave stays. */
START_TEST(test_flag_empty_is_an_error)
{
	static const enum setting_key keys[] = {
	        SETTING_SET_NAME,    SETTING_NAME,    SETTING_DATA_DIR,
	        SETTING_CLIENT_PORT, SETTING_TIMEOUT, SETTING_QUARANTINE_KEEP,
	        SETTING_API,
	};
	struct settings s;
	struct error err;

	settings_init(&s);
	error_clear(&err);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ck_assert_int_eq(settings_set(&s, keys[i], "", &err), -EINVAL);
		ck_assert_msg(strstr(err.msg, "is empty") && strstr(err.msg, "--"), "%s", err.msg);
	}
	ck_assert_str_eq(s.data_dir, SETTINGS_DEFAULT_DATA_DIR);
	ck_assert_str_eq(ORIGIN(&s, SETTING_DATA_DIR), "default");
	settings_free(&s);
}
END_TEST

START_TEST(test_validate_endpoints_ok)
{
	struct settings s;
	struct error err;

	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_ENDPOINTS, "http://a:2379,https://b", &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), 0);
	settings_free(&s);
}
END_TEST

START_TEST(test_validate_cert_needs_key)
{
	struct settings s;
	struct error err;
	char cert[64];

	temp_file(cert, "not really a certificate\n");
	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_CERT, cert, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "--key"));
	settings_free(&s);

	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_KEY, cert, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), -EINVAL);
	settings_free(&s);

	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_CERT, cert, &err), 0);
	ck_assert_int_eq(settings_set(&s, SETTING_KEY, cert, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), 0);
	settings_free(&s);
	unlink(cert);
}
END_TEST

START_TEST(test_validate_password_without_user)
{
	struct settings s;
	struct error err;

	settings_init(&s);
	setenv("ETCDCTL_PASSWORD", "pw", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "without a user"));
	settings_free(&s);

	settings_init(&s);
	setenv("ETCDCTL_USER", "alice", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), 0);
	ck_assert_str_eq(s.user, "alice");
	ck_assert_str_eq(s.password, "pw");
	settings_free(&s);
}
END_TEST

START_TEST(test_root_password_env)
{
	struct settings s;
	struct error err;

	settings_init(&s);
	setenv("ROOT_PASSWORD", "rootpw", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), 0);
	ck_assert_str_eq(s.user, "root");
	ck_assert_str_eq(s.password, "rootpw");
	settings_free(&s);
}
END_TEST

START_TEST(test_validate_user_colon_password)
{
	struct settings s;
	struct error err;
	size_t size = sizeof("root:pw");

	/* on the command line: refused, it would stay in /proc/PID/cmdline */
	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_USER, "root:pw", &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "--password-file"));
	ck_assert_ptr_null(strstr(err.msg, "pw'"));
	settings_free(&s);

	/* in ETCDCTL_USER, as etcdctl takes it: split */
	settings_init(&s);
	setenv("ETCDCTL_USER", "root:pw", 1);
	ck_assert_int_eq(settings_load_env(&s, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), 0);
	ck_assert_str_eq(s.user, "root");
	ck_assert_str_eq(s.password, "pw");
	/* the user string's own buffer no longer holds the password */
	ck_assert_ptr_null(memmem(s.user, size, "pw", 2));
	settings_free(&s);
}
END_TEST

START_TEST(test_validate_password_file)
{
	struct settings s;
	struct error err;
	char path[64];

	temp_file(path, "s3cret\nsecond line\n");
	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_PASSWORD_FILE, path, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), 0);
	ck_assert_str_eq(s.password, "s3cret");
	ck_assert_str_eq(s.user, "root");
	settings_free(&s);

	/* from the environment, with a user of its own */
	settings_init(&s);
	setenv("ETCDCTL_USER", "alice", 1);
	setenv("ROOT_PASSWORD_FILE", path, 1);
	ck_assert_int_eq(settings_load_env(&s, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), 0);
	ck_assert_str_eq(s.password, "s3cret");
	ck_assert_str_eq(s.user, "alice");
	settings_free(&s);
	unlink(path);
}
END_TEST

START_TEST(test_validate_password_file_bad)
{
	struct settings s;
	struct error err;
	char path[64];

	temp_file(path, "");
	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_PASSWORD_FILE, path, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "empty"));
	ck_assert_ptr_nonnull(strstr(err.msg, path));
	settings_free(&s);
	unlink(path);

	temp_file(path, "\npassword on the second line\n");
	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_PASSWORD_FILE, path, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), -EINVAL);
	settings_free(&s);
	unlink(path);

	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_PASSWORD_FILE, "/nonexistent/pw", &err), 0);
	ck_assert_int_lt(settings_validate(&s, 0, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/pw"));
	settings_free(&s);

	/* writable by others: they could replace the password */
	temp_file(path, "s3cret\n");
	ck_assert_int_eq(chmod(path, 0622), 0);
	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_PASSWORD_FILE, path, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "writable by others"));
	ck_assert_ptr_null(strstr(err.msg, "s3cret"));
	settings_free(&s);
	/* a Secret's 0644 is fine */
	ck_assert_int_eq(chmod(path, 0644), 0);
	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_PASSWORD_FILE, path, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), 0);
	settings_free(&s);
	unlink(path);

	/* not a regular file */
	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_PASSWORD_FILE, "/tmp", &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
	settings_free(&s);
}
END_TEST

/* A password of at most SETTINGS_MAX_PASSWORD bytes is read whole; a longer one is refused,
 * never cut. */
START_TEST(test_validate_password_file_long)
{
	static char text[SETTINGS_MAX_PASSWORD + 3];
	struct settings s;
	struct error err;
	char path[64];

	memset(text, 'p', SETTINGS_MAX_PASSWORD);
	strcpy(text + SETTINGS_MAX_PASSWORD, "\n");
	temp_file(path, text);
	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_PASSWORD_FILE, path, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), 0);
	ck_assert_uint_eq(strlen(s.password), SETTINGS_MAX_PASSWORD);
	settings_free(&s);
	unlink(path);

	memset(text, 'p', SETTINGS_MAX_PASSWORD + 1);
	strcpy(text + SETTINGS_MAX_PASSWORD + 1, "\n");
	temp_file(path, text);
	settings_init(&s);
	ck_assert_int_eq(settings_set(&s, SETTING_PASSWORD_FILE, path, &err), 0);
	ck_assert_int_eq(settings_validate(&s, 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "longer than 1024"));
	ck_assert_ptr_null(s.password);
	settings_free(&s);
	unlink(path);
}
END_TEST

START_TEST(test_validate_need_initial_size)
{
	struct settings s;
	struct error err;

	settings_init(&s);
	ck_assert_int_eq(settings_validate(&s, SETTINGS_NEED_INITIAL_SIZE, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "INITIAL_CLUSTER_SIZE"));
	ck_assert_int_eq(settings_set(&s, SETTING_INITIAL_CLUSTER_SIZE, "3", &err), 0);
	ck_assert_int_eq(settings_validate(&s, SETTINGS_NEED_INITIAL_SIZE, &err), 0);
	settings_free(&s);
}
END_TEST

static Suite *settings_suite(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("load");
	tcase_add_checked_fixture(tc, clear_env, NULL);
	tcase_add_test(tc, test_init_defaults);
	tcase_add_test(tc, test_program_settings);
	tcase_add_test(tc, test_env_bad_number);
	tcase_add_test(tc, test_env_values);
	tcase_add_test(tc, test_env_pod_name_first);
	tcase_add_test(tc, test_env_empty_is_an_error);
	tcase_add_test(tc, test_secret_variables);
	tcase_add_test(tc, test_program_timeout);
	tcase_add_test(tc, test_flag_overrides_env);
	tcase_add_test(tc, test_flag_bad_values);
	tcase_add_test(tc, test_flag_empty_is_an_error);
	tcase_add_test(tc, test_check_program_envs);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_checked_fixture(tc, clear_env, NULL);
	tcase_add_test(tc, test_validate_defaults);
	tcase_add_test(tc, test_validate_namespace_from_service_account);
	tcase_add_test(tc, test_validate_errors);
	tcase_add_test(tc, test_validate_endpoints_ok);
	tcase_add_test(tc, test_validate_cert_needs_key);
	tcase_add_test(tc, test_validate_password_without_user);
	tcase_add_test(tc, test_root_password_env);
	tcase_add_test(tc, test_validate_user_colon_password);
	tcase_add_test(tc, test_validate_password_file);
	tcase_add_test(tc, test_validate_password_file_bad);
	tcase_add_test(tc, test_validate_password_file_long);
	tcase_add_test(tc, test_validate_need_initial_size);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(settings_suite());
	int failures;

	srunner_run_all(sr, CK_ENV);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
