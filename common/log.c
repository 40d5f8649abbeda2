#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

static int log_level_cur = LOG_LVL_INFO; /* (atomic) */
static const char *log_ident = "teehsm";

void log_set_level(enum log_level lvl)
{
	__atomic_store_n(&log_level_cur, (int)lvl, __ATOMIC_RELAXED);
}

void log_set_ident(const char *ident)
{
	log_ident = ident;
}

int log_parse_level(const char *s, enum log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const tags[] = { "error", "warn", "info", "debug" };
	char line[1024];
	va_list ap;

	if (lvl < LOG_LVL_ERROR || (int)lvl > __atomic_load_n(&log_level_cur, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line so concurrent threads do not interleave mid-line. */
	fprintf(stderr, "%s: %s: %s\n", log_ident, tags[lvl], line);
}
