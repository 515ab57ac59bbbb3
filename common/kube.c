#include "kube.h"

#include "fsutil.h"
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A Status object (the body of every API error), or NULL: -ENOENT, -EACCES or -EREMOTEIO. */
static int status_error(json_t *root, long http_status, struct error *err)
{
	const char *kind = json_string_value(json_object_get(root, "kind"));
	const char *message = json_string_value(json_object_get(root, "message"));

	if (!kind || strcmp(kind, "Status") != 0)
		return 0;
	return error_set(err,
	                 http_status == 404                         ? -ENOENT
	                 : http_status == 401 || http_status == 403 ? -EACCES
	                                                            : -EREMOTEIO,
	                 "%s (HTTP %ld)", message ? message : "failure", http_status);
}

int kube_parse_statefulset(long http_status, const char *body, size_t len,
                           struct kube_statefulset *ret, struct error *err)
{
	struct kube_statefulset sts = {0};
	json_t *root = json_loadb(body, len, 0, NULL), *spec, *replicas, *formed;
	const char *kind;
	int r = 0;

	if (!json_is_object(root)) {
		r = error_set(err, -EBADMSG, "the API server sent no JSON object (HTTP %ld)",
		              http_status);
		goto out;
	}
	r = status_error(root, http_status, err);
	if (r < 0)
		goto out;
	kind = json_string_value(json_object_get(root, "kind"));
	if (http_status != 200 || !kind || strcmp(kind, "StatefulSet") != 0) {
		r = error_set(err, -EBADMSG, "the API server sent no StatefulSet (HTTP %ld)",
		              http_status);
		goto out;
	}
	spec = json_object_get(root, "spec");
	replicas = json_object_get(spec, "replicas");
	if (!replicas) {
		sts.replicas = 1;
	} else if (json_is_integer(replicas) && json_integer_value(replicas) >= 0 &&
	           json_integer_value(replicas) <= INT32_MAX) {
		sts.replicas = (unsigned)json_integer_value(replicas);
	} else {
		r = error_set(err, -EBADMSG, "spec.replicas is not a count");
		goto out;
	}
	replicas = json_object_get(json_object_get(root, "status"), "replicas");
	sts.created = json_is_integer(replicas) && json_integer_value(replicas) >= 0 &&
	                              json_integer_value(replicas) <= INT32_MAX
	                      ? (unsigned)json_integer_value(replicas)
	                      : UINT_MAX;
	formed = json_object_get(json_object_get(json_object_get(root, "metadata"), "annotations"),
	                         KUBE_FORMED_ANNOTATION);
	/* Any value says the cluster formed; an odd one is kept short for the log. */
	if (formed)
		snprintf(sts.formed_cluster, sizeof(sts.formed_cluster), "%s",
		         json_is_string(formed) && json_string_value(formed)[0]
		                 ? json_string_value(formed)
		                 : "?");
	*ret = sts;
out:
	json_decref(root);
	return r;
}

int kube_parse_replicas(long http_status, const char *body, size_t len, unsigned *ret,
                        struct error *err)
{
	struct kube_statefulset sts;
	int r = kube_parse_statefulset(http_status, body, len, &sts, err);

	if (r == 0)
		*ret = sts.replicas;
	return r;
}

/* One request about the StatefulSet: GET it, or PATCH it with patch (a merge patch), for
 * real or as a dry run (?dryRun=All: authorized and admitted, never stored). Returns 0 with
 * *ret filled, or a negative errno. */
static int statefulset_request(const char *sa_dir, const char *namespace, const char *name,
                               const char *patch, bool dry_run, const struct deadline *d,
                               struct http_response *ret, struct error *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct http_options o = {.call_timeout_ms = 2000};
	struct http_client *http = NULL;
	char *token = NULL, *ns = NULL, *auth = NULL, *url = NULL, ca[4096];
	int r;

	if (!host || !*host)
		return error_set(err, -ENXIO,
		                 "not in a Kubernetes pod: KUBERNETES_SERVICE_HOST is not set");
	r = fsutil_first_line(sa_dir, "token", &token);
	if (r < 0) {
		r = error_set(err, -ENXIO, "no service account token in '%s': %s", sa_dir,
		              r == -ENODATA ? "the file is empty" : strerror(-r));
		goto out;
	}
	if (namespace)
		ns = strdup(namespace);
	else
		fsutil_first_line(sa_dir, "namespace", &ns);
	snprintf(ca, sizeof(ca), "%s/ca.crt", sa_dir);
	o.cacert = ca;
	if (!ns || asprintf(&auth, "Bearer %s", token) < 0 ||
	    asprintf(&url, "https://%s%s%s:%s/apis/apps/v1/namespaces/%s/statefulsets/%s%s",
	             strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
	             port && *port ? port : "443", ns, name, dry_run ? "?dryRun=All" : "") < 0) {
		auth = url = NULL;
		r = error_set(err, -ENOMEM, "out of memory or no namespace");
		goto out;
	}
	r = http_global_init(err);
	if (r == 0)
		r = http_client_new(&o, &http, err);
	if (r == 0)
		r = http_client_set_auth(http, auth) < 0 ? error_set(err, -ENOMEM, "out of memory")
		                                         : 0;
	if (r == 0)
		r = patch ? http_request_as(http, "PATCH", url, "application/merge-patch+json",
		                            NULL, patch, d, ret, err)
		          : http_request(http, "GET", url, NULL, d, ret, err);
	if (r < 0)
		error_prefix(err, "cannot %s StatefulSet '%s' in '%s': ",
		             dry_run ? "patch (dry run)"
		             : patch ? "patch"
		                     : "read",
		             name, ns);
out:
	http_client_free(http);
	if (token)
		explicit_bzero(token, strlen(token));
	if (auth)
		explicit_bzero(auth, strlen(auth));
	free(token);
	free(auth);
	free(ns);
	free(url);
	return r;
}

int kube_statefulset_read(const char *sa_dir, const char *namespace, const char *name,
                          const struct deadline *d, struct kube_statefulset *ret, struct error *err)
{
	struct http_response resp = {0};
	int r = statefulset_request(sa_dir, namespace, name, NULL, false, d, &resp, err);

	if (r == 0) {
		r = kube_parse_statefulset(resp.status, resp.body, resp.len, ret, err);
		if (r < 0)
			error_prefix(err, "StatefulSet '%s': ", name);
	}
	http_response_free(&resp);
	return r;
}

int kube_statefulset_replicas(const char *sa_dir, const char *namespace, const char *name,
                              const struct deadline *d, unsigned *ret, struct error *err)
{
	struct kube_statefulset sts;
	int r = kube_statefulset_read(sa_dir, namespace, name, d, &sts, err);

	if (r == 0)
		*ret = sts.replicas;
	return r;
}

int kube_statefulset_mark_formed(const char *sa_dir, const char *namespace, const char *name,
                                 const char *cluster_id, const struct deadline *d,
                                 struct error *err)
{
	struct http_response resp = {0};
	json_t *patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations",
	                          KUBE_FORMED_ANNOTATION, cluster_id);
	char *body = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
	struct kube_statefulset sts;
	int r;

	json_decref(patch);
	if (!body)
		return error_set(err, -ENOMEM, "out of memory");
	r = statefulset_request(sa_dir, namespace, name, body, false, d, &resp, err);
	free(body);
	if (r == 0) {
		r = kube_parse_statefulset(resp.status, resp.body, resp.len, &sts, err);
		if (r < 0)
			error_prefix(err, "StatefulSet '%s': ", name);
		else if (strcmp(sts.formed_cluster, cluster_id) != 0)
			r = error_set(err, -EBADMSG, "the patched StatefulSet '%s' has no mark",
			              name);
	}
	http_response_free(&resp);
	return r;
}

int kube_statefulset_may_mark(const char *sa_dir, const char *namespace, const char *name,
                              const struct deadline *d, struct error *err)
{
	struct http_response resp = {0};
	struct kube_statefulset sts;
	int r = statefulset_request(sa_dir, namespace, name, "{\"metadata\":{\"annotations\":{}}}",
	                            true, d, &resp, err);

	if (r == 0) {
		r = kube_parse_statefulset(resp.status, resp.body, resp.len, &sts, err);
		if (r < 0)
			error_prefix(err, "StatefulSet '%s' (dry run): ", name);
	}
	http_response_free(&resp);
	return r;
}
