#include "parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || v > max)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *ret)
{
	char digits[32];
	size_t len, n;
	uint64_t v, scale = 1000;
	int r;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	n = len;
	if (len > 2 && strcmp(s + len - 2, "ms") == 0) {
		n = len - 2;
		scale = 1;
	} else if (len > 1 && s[len - 1] == 's') {
		n = len - 1;
	}
	if (n == 0 || n >= sizeof(digits))
		return n == 0 ? -EINVAL : -ERANGE;
	memcpy(digits, s, n);
	digits[n] = '\0';
	r = parse_uint(digits, max_ms / scale, &v);
	if (r < 0)
		return r;
	if (v * scale > max_ms)
		return -ERANGE;
	*ret = v * scale;
	return 0;
}

bool dns_label_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (c != '-' || i == 0 || i == n - 1))
			return false;
	}
	return true;
}

bool dns_subdomain_valid(const char *s)
{
	char label[64];
	const char *p = s;

	if (!s || !*s || strlen(s) > 253)
		return false;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (n == 0 || n >= sizeof(label))
			return false;
		memcpy(label, p, n);
		label[n] = '\0';
		if (!dns_label_valid(label))
			return false;
		if (!dot)
			return true;
		p = dot + 1;
	}
}

bool parse_wal_name(const char *name)
{
	/* etcd's walName(): fmt.Sprintf("%016x-%016x.wal", seq, index) */
	static const char shape[] = "################-################.wal";

	if (strlen(name) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++) {
		bool hex = (name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f');

		if (shape[i] == '#' ? !hex : name[i] != shape[i])
			return false;
	}
	return true;
}
