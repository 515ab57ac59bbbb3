/* Settings and identity from environment and flag values: each line of the input is the
 * value of one setting, in the order of settings_options (a line per option, cycling), set
 * both as its flag and as its environment variable; then validated as a program does. The
 * same values go to the pod-name parser and the number, duration and DNS-name parsers. */
#include "fuzz.h"

#include "identity.h"
#include "parse.h"
#include "settings.h"

#include <stdio.h>

/* settings.c's variables, in the order of enum setting_key */
static const char *const env_names[] = {
        "SET_NAME",
        "SERVICE_NAME",
        "CLUSTER_NAMESPACE",
        "CLUSTER_DOMAIN",
        "INITIAL_CLUSTER_SIZE",
        "POD_NAME",
        "ETCD_DATA_DIR",
        "CLIENT_PORT",
        "PEER_PORT",
        "ETCDAPI_VERSION",
        "ETCDCTL_USER",
        "ROOT_PASSWORD_FILE",
        "ETCDCTL_CACERT",
        "ETCDCTL_CERT",
        "ETCDCTL_KEY",
        "ETCDCTL_ENDPOINTS",
        "ETCD_HOOKS_TIMEOUT",
        NULL,
        NULL,
        "ETCD_HOOKS_DEBUG",
        "ETCD_HOOKS_SERVICEACCOUNT_DIR",
        "ETCD_HOOKS_BOOTSTRAP_WAIT",
        "ETCD_HOOKS_QUARANTINE_KEEP",
};

/* Settings that name files: kept under a folder that does not exist, so that a fuzzed
 * value never makes the harness read a real file. */
static bool names_a_file(int key)
{
	return key == SETTING_PASSWORD_FILE || key == SETTING_CACERT || key == SETTING_CERT ||
	       key == SETTING_KEY || key == SETTING_SA_DIR || key == SETTING_ETCD;
}

static void values(const char *v)
{
	struct identity id;
	struct error err;
	uint64_t n;

	error_clear(&err);
	(void)identity_parse(v, &id, &err);
	(void)parse_uint(v, UINT64_MAX, &n);
	(void)parse_uint(v, 65535, &n);
	(void)parse_duration_ms(v, SETTINGS_MAX_TIMEOUT_MS, &n);
	(void)dns_label_valid(v);
	(void)dns_subdomain_valid(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), *save = NULL, *line, value[4096];
	struct settings flags, env;
	struct error err;
	size_t k = 0, n_options = 0;

	if (!text)
		return 0;
	while (settings_options[n_options].name)
		n_options++;
	settings_init(&flags);
	for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		if (env_names[i])
			unsetenv(env_names[i]);
	unsetenv("HOSTNAME");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), k++) {
		const struct option *o = &settings_options[k % n_options];
		int key = o->val;

		snprintf(value, sizeof(value), "%s%s",
		         names_a_file(key) ? "/nonexistent-fuzz/" : "", line);
		values(line);
		error_clear(&err);
		(void)settings_set(&flags, key, o->has_arg == no_argument ? NULL : value, &err);
		if (key >= SETTING_SET_NAME && key < SETTING_KEY_END &&
		    env_names[key - SETTING_SET_NAME])
			setenv(env_names[key - SETTING_SET_NAME], value, 1);
	}
	error_clear(&err);
	(void)settings_validate(&flags, SETTINGS_NEED_INITIAL_SIZE, &err);
	settings_free(&flags);
	settings_init(&env);
	error_clear(&err);
	if (settings_load_env(&env, &err) == 0) {
		error_clear(&err);
		(void)settings_validate(&env, 0, &err);
	}
	settings_free(&env);
	free(text);
	return 0;
}
