/* The one configuration file format of teehsm (server and client):
 *
 *   # comment
 *   key = value
 *
 * Keys are [a-z0-9_]+; a value runs to the end of the line with surrounding blanks removed.
 * A key may repeat (e.g. several "listen" lines); conf_get returns the last one. */
#ifndef TEEHSM_COMMON_CONF_H
#define TEEHSM_COMMON_CONF_H

#include <stddef.h>

struct conf_entry {
	char *key;
	char *value;
	unsigned line;
};

struct conf {
	struct conf_entry *entries;
	size_t n;
	char *path;
};

/* Parse the file at path. On success returns 0 and *out owns a new conf (free with conf_free).
 * On failure returns -1 and writes a one-line reason naming the file and line into err. */
int conf_load(const char *path, struct conf **out, char *err, size_t errlen);

/* Free a conf. Accepts NULL. */
void conf_free(struct conf *c);

/* The value of the last entry named key, or NULL. */
const char *conf_get(const struct conf *c, const char *key);

/* Refuse keys not listed in allowed (NULL-terminated): returns 0, or -1 with the first unknown
 * key and its line in err. Catches typos that would otherwise silently fall back to defaults. */
int conf_check_keys(const struct conf *c, const char *const *allowed, char *err, size_t errlen);

/* s as a plain unsigned decimal: digits only (no sign, no blanks), no overflow. 0, or -1. */
int conf_parse_decimal(const char *s, unsigned long *out);

/* Read key as an unsigned decimal in [min, max]; def when absent. 0, or -1 with a reason in err. */
int conf_get_ulong(const struct conf *c, const char *key, unsigned long def, unsigned long min,
		   unsigned long max, unsigned long *out, char *err, size_t errlen);

/* Resolve a path value relative to the directory of the config file (absolute paths are kept).
 * Returns a new string (caller frees) or NULL on allocation failure. */
char *conf_path(const struct conf *c, const char *value);

#endif
