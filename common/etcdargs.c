#include "etcdargs.h"

#include "strv.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void etcdargs_free(struct etcdargs *a)
{
	if (!a)
		return;
	strv_free(a->argv);
	strv_free(a->unset);
	strv_free(a->yielded);
	a->argv = a->unset = a->yielded = NULL;
}

void etcdargs_env_name(const char *flag, char *buf, size_t size)
{
	size_t j = (size_t)snprintf(buf, size, "ETCD_");

	for (const char *p = flag; *p && j + 1 < size; p++)
		buf[j++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	buf[j < size ? j : size - 1] = '\0';
}

/* The flag name of an argument ("--name=x" and "-name" give "name"), or NULL. */
static bool flag_of(const char *arg, char *buf, size_t size)
{
	size_t n;

	if (arg[0] != '-' || arg[1] == '\0' || strcmp(arg, "--") == 0)
		return false;
	arg += arg[1] == '-' ? 2 : 1;
	n = strcspn(arg, "=");
	if (n == 0 || n >= size)
		return false;
	memcpy(buf, arg, n);
	buf[n] = '\0';
	return true;
}

static bool extra_has(const struct etcdargs_input *in, const char *flag)
{
	char name[128];

	for (size_t i = 0; i < in->n_extra; i++)
		if (flag_of(in->extra[i], name, sizeof(name)) && strcmp(name, flag) == 0)
			return true;
	return false;
}

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

const char *etcdargs_user_value(char *const *extra, size_t n_extra, char *const *envp,
                                const char *flag)
{
	const char *found = NULL;
	char name[128], env[160];

	/* etcd takes the last of a flag given twice; a flag beats its variable */
	for (size_t i = 0; i < n_extra; i++) {
		if (!flag_of(extra[i], name, sizeof(name)) || strcmp(name, flag) != 0)
			continue;
		if (strchr(extra[i], '='))
			found = strchr(extra[i], '=') + 1;
		else if (i + 1 < n_extra)
			found = extra[++i];
	}
	if (found)
		return found;
	etcdargs_env_name(flag, env, sizeof(env));
	return env_get(envp, env);
}

/* The flags etcd-join decides: the user may set none of them. */
static const char *const owned[] = {
        "name",
        "data-dir",
        "initial-cluster",
        "initial-cluster-state",
        "initial-advertise-peer-urls",
};

/* The flags etcd-hooks does not support at all, and why. */
static const struct {
	const char *flag, *why;
} refused[] = {
        {"wal-dir",
         "etcd-hooks keeps the WAL inside the data dir, where its checks, its moves aside and the tombstone see it: a WAL elsewhere would outlive its data dir, or be left behind by a move"},
        {"config-file",
         "with a config file etcd ignores every flag and ETCD_* variable, etcd-join's decision included (--initial-cluster-state, --data-dir, ...); give the settings as flags after '--' or as ETCD_* variables instead"},
};

/* A refused flag among the arguments after "--", or in the environment. */
static int check_refused(char *const *extra, size_t n_extra, char *const *envp, struct error *err)
{
	struct etcdargs_input in = {.extra = extra, .n_extra = n_extra};
	char env[160];

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		etcdargs_env_name(refused[i].flag, env, sizeof(env));
		if (extra_has(&in, refused[i].flag) || env_get(envp, env))
			return error_set(
			        err, -EINVAL, "%s sets etcd's --%s, which is not supported: %s",
			        extra_has(&in, refused[i].flag) ? "an argument after '--'" : env,
			        refused[i].flag, refused[i].why);
	}
	return 0;
}

int etcdargs_check_unsupported_env(char *const *envp, struct error *err)
{
	return check_refused(NULL, 0, envp, err);
}

int etcdargs_check_env(char *const *envp, struct error *err)
{
	char env[160];

	if (check_refused(NULL, 0, envp, err) < 0)
		return -EINVAL;

	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		etcdargs_env_name(owned[i], env, sizeof(env));
		/* ETCD_DATA_DIR is etcd-join's input: it says where the data dir is. */
		if (strcmp(env, "ETCD_DATA_DIR") != 0 && env_get(envp, env))
			return error_set(
			        err, -EINVAL,
			        "the environment sets %s (etcd's --%s), which etcd-join decides; remove it from the container's env",
			        env, owned[i]);
	}
	return 0;
}

int etcdargs_check_extra(char *const *extra, size_t n_extra, struct error *err)
{
	struct etcdargs_input in = {.extra = extra, .n_extra = n_extra};

	if (check_refused(extra, n_extra, NULL, err) < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (extra_has(&in, owned[i]))
			return error_set(
			        err, -EINVAL,
			        "an argument after '--' sets etcd's --%s, which etcd-join decides; remove it",
			        owned[i]);
	return 0;
}

int etcdargs_build(const struct etcdargs_input *in, struct etcdargs *ret, struct error *err)
{
	const struct {
		const char *flag;
		const char *value;
		bool owned; /* the decision depends on it: the user may not set it */
	} ours[] = {
	        {"name", in->name, true},
	        {"data-dir", in->data_dir, true},
	        {"listen-peer-urls", in->listen_peer_url, false},
	        {"listen-client-urls", in->listen_client_url, false},
	        {"initial-advertise-peer-urls", in->advertise_peer_url, true},
	        {"advertise-client-urls", in->advertise_client_url, false},
	        {"initial-cluster", in->initial_cluster, true},
	        {"initial-cluster-state", in->initial_state, true},
	        {"initial-cluster-token", in->token, false},
	};
	struct strv argv = {0}, unset = {0}, yielded = {0};
	char env[160], name[128];
	int r = -ENOMEM;

	if (check_refused(in->extra, in->n_extra, in->envp, err) < 0) {
		r = -EINVAL;
		goto fail;
	}
	if (strv_push(&argv, in->etcd) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		bool in_extra = extra_has(in, ours[i].flag), in_env;

		etcdargs_env_name(ours[i].flag, env, sizeof(env));
		in_env = env_get(in->envp, env) != NULL && strcmp(env, "ETCD_DATA_DIR") != 0;
		if (ours[i].owned && (in_extra || (in_env && ours[i].value))) {
			r = error_set(err, -EINVAL,
			              "%s sets etcd's --%s, which etcd-join decides; remove it",
			              in_extra ? "an argument after '--'" : env, ours[i].flag);
			goto fail;
		}
		if (!ours[i].value)
			continue;
		if (in_extra || in_env) {
			if (strv_push(&yielded, ours[i].flag) < 0)
				goto fail;
			continue;
		}
		if (strv_push(&argv, "--") < 0)
			goto fail;
		/* "--flag=value" keeps each setting one argv element, easy to read in ps. */
		free(argv.v[argv.n - 1]);
		if (asprintf(&argv.v[argv.n - 1], "--%s=%s", ours[i].flag, ours[i].value) < 0) {
			argv.v[--argv.n] = NULL;
			goto fail;
		}
	}
	for (size_t i = 0; i < in->n_extra; i++)
		if (strv_push(&argv, in->extra[i]) < 0)
			goto fail;

	/* A flag on the command line wins; its variable must go, or etcd refuses to start. */
	for (size_t i = 1; i < argv.n; i++) {
		if (!flag_of(argv.v[i], name, sizeof(name)))
			continue;
		etcdargs_env_name(name, env, sizeof(env));
		if (env_get(in->envp, env) && strv_push(&unset, env) < 0)
			goto fail;
	}
	ret->argv = argv.v;
	ret->argc = argv.n;
	ret->unset = unset.v ? unset.v : calloc(1, sizeof(char *));
	ret->yielded = yielded.v ? yielded.v : calloc(1, sizeof(char *));
	if (!ret->unset || !ret->yielded) {
		etcdargs_free(ret);
		return error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
fail:
	strv_free(argv.v);
	strv_free(unset.v);
	strv_free(yielded.v);
	return r == -ENOMEM ? error_set(err, r, "out of memory") : r;
}
