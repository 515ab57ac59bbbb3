#include "identity.h"

#include "parse.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int identity_parse(const char *name, struct identity *ret, struct error *err)
{
	struct identity id = {0};
	const char *dash;
	uint64_t ordinal;
	size_t set_len;
	int r;

	if (!name || !*name)
		return error_set(err, -EINVAL, "empty member name");
	if (strlen(name) >= sizeof(id.name))
		return error_set(err, -EINVAL, "member name '%.80s' is longer than 63 characters",
		                 name);
	if (!dns_label_valid(name))
		return error_set(
		        err, -EINVAL,
		        "member name '%s' is not a pod name (lower-case letters, digits and '-')",
		        name);
	dash = strrchr(name, '-');
	if (!dash || dash == name)
		return error_set(
		        err, -EINVAL,
		        "member name '%s' has no ordinal: expected '<statefulset>-<number>'", name);
	r = parse_uint(dash + 1, IDENTITY_MAX_ORDINAL, &ordinal);
	if (r == -ERANGE)
		return error_set(err, -EINVAL, "member name '%s': ordinal '%s' is too large", name,
		                 dash + 1);
	if (r < 0 || (dash[1] == '0' && dash[2] != '\0'))
		return error_set(
		        err, -EINVAL,
		        "member name '%s': '%s' is not an ordinal: expected '<statefulset>-<number>'",
		        name, dash + 1);
	set_len = (size_t)(dash - name);
	memcpy(id.name, name, strlen(name) + 1);
	memcpy(id.set_name, name, set_len);
	id.set_name[set_len] = '\0';
	if (!dns_label_valid(id.set_name))
		return error_set(err, -EINVAL,
		                 "member name '%s': StatefulSet part '%s' is not a DNS label", name,
		                 id.set_name);
	id.ordinal = (unsigned)ordinal;
	*ret = id;
	return 0;
}

int identity_resolve(const char *name, const char *set_name, struct identity *ret,
                     struct error *err)
{
	char host[HOST_NAME_MAX + 1];
	struct identity id;
	int r;

	if (!name) {
		if (gethostname(host, sizeof(host)) < 0)
			return error_set(err, -errno, "cannot read the host name: %s",
			                 strerror(errno));
		host[sizeof(host) - 1] = '\0';
		/* A pod's hostname is its name; a FQDN would carry the subdomain. */
		host[strcspn(host, ".")] = '\0';
		name = host;
	}
	r = identity_parse(name, &id, err);
	if (r < 0)
		return r;
	if (set_name && strcmp(set_name, id.set_name) != 0)
		return error_set(
		        err, -EINVAL,
		        "member name '%s' does not match SET_NAME '%s': expected '%s-<ordinal>'",
		        id.name, set_name, set_name);
	*ret = id;
	return 0;
}

int identity_member_ordinal(const char *set_name, const char *name, const char *peer_url,
                            unsigned *ret)
{
	char host[64] = "";
	struct identity id;

	if (name && name[0]) {
		snprintf(host, sizeof(host), "%s", name);
	} else if (peer_url && strstr(peer_url, "://")) {
		const char *h = strstr(peer_url, "://") + 3;

		snprintf(host, sizeof(host), "%.*s", (int)strcspn(h, ".:/"), h);
	}
	if (identity_parse(host, &id, NULL) < 0 || strcmp(id.set_name, set_name) != 0)
		return -EINVAL;
	*ret = id.ordinal;
	return 0;
}
