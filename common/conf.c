#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"

/* Bounds: a config file is small; anything larger is a mistake, not a config. */
#define CONF_MAX_LINE	 4096
#define CONF_MAX_ENTRIES 1024

static char *trim(char *s)
{
	char *end;

	while (*s && isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int key_valid(const char *k)
{
	if (!*k)
		return 0;
	for (; *k; k++)
		if (!(islower((unsigned char)*k) || isdigit((unsigned char)*k) || *k == '_'))
			return 0;
	return 1;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->entries[i].key);
		free(c->entries[i].value);
	}
	free(c->entries);
	free(c->path);
	free(c);
}

int conf_load(const char *path, struct conf **out, char *err, size_t errlen)
{
	struct conf *c = NULL;
	FILE *f = NULL;
	char line[CONF_MAX_LINE + 2];
	unsigned lineno = 0;
	int ret = -1;

	*out = NULL;
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path))) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p, *eq, *k, *v;
		struct conf_entry *ne;

		lineno++;
		if (strlen(line) > CONF_MAX_LINE) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			goto out;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
			goto out;
		}
		*eq = '\0';
		k = trim(p);
		v = trim(eq + 1);
		if (!key_valid(k)) {
			snprintf(err, errlen, "%s:%u: invalid key '%.64s'", path, lineno, k);
			goto out;
		}
		if (c->n >= CONF_MAX_ENTRIES) {
			snprintf(err, errlen, "%s:%u: too many entries", path, lineno);
			goto out;
		}
		ne = realloc(c->entries, (c->n + 1) * sizeof(*ne));
		if (!ne) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto out;
		}
		c->entries = ne;
		ne[c->n].key = strdup(k);
		ne[c->n].value = strdup(v);
		ne[c->n].line = lineno;
		c->n++;
		if (!ne[c->n - 1].key || !ne[c->n - 1].value) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	*out = c;
	c = NULL; /* the caller owns it now */
	ret = 0;
out:
	if (f)
		fclose(f);
	conf_free(c);
	return ret;
}

const char *conf_get(const struct conf *c, const char *key)
{
	for (size_t i = c->n; i > 0; i--)
		if (strcmp(c->entries[i - 1].key, key) == 0)
			return c->entries[i - 1].value;
	return NULL;
}

int conf_check_keys(const struct conf *c, const char *const *allowed, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->n; i++) {
		const char *const *a;

		for (a = allowed; *a; a++)
			if (strcmp(*a, c->entries[i].key) == 0)
				break;
		if (!*a) {
			snprintf(err, errlen, "%s:%u: unknown key '%s'", c->path,
				 c->entries[i].line, c->entries[i].key);
			return -1;
		}
	}
	return 0;
}

int conf_parse_decimal(const char *s, unsigned long *out)
{
	char *end = NULL;
	unsigned long n;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

int conf_get_ulong(const struct conf *c, const char *key, unsigned long def, unsigned long min,
		   unsigned long max, unsigned long *out, char *err, size_t errlen)
{
	const char *v = conf_get(c, key);
	unsigned long n = 0;

	if (!v) {
		*out = def;
		return 0;
	}
	if (conf_parse_decimal(v, &n) || n < min || n > max) {
		snprintf(err, errlen, "%s: %s must be a number in [%lu, %lu], not '%.64s'", c->path,
			 key, min, max, v);
		return -1;
	}
	*out = n;
	return 0;
}

char *conf_path(const struct conf *c, const char *value)
{
	const char *slash;
	char *res;
	size_t dirlen;

	if (value[0] == '/' || !(slash = strrchr(c->path, '/')))
		return strdup(value);
	dirlen = (size_t)(slash - c->path);
	res = malloc(dirlen + 1 + strlen(value) + 1);
	if (!res)
		return NULL;
	memcpy(res, c->path, dirlen);
	res[dirlen] = '/';
	strcpy(res + dirlen + 1, value);
	return res;
}
