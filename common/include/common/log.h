/* Leveled logging to stderr. Never pass a PIN, key byte or plaintext to these. */
#ifndef TEEHSM_COMMON_LOG_H
#define TEEHSM_COMMON_LOG_H

/* LOG_LVL_NONE is only for log_set_level: nothing is printed. */
enum log_level { LOG_LVL_NONE = -1, LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Set the most verbose level that is printed (default LOG_LVL_INFO). May be called while other
 * threads log. */
void log_set_level(enum log_level lvl);

/* Parse "error", "warn", "info" or "debug"; returns 0 and sets *out, or -1. */
int log_parse_level(const char *s, enum log_level *out);

/* Set the prefix printed before each line (e.g. "teehsmd"); the string must outlive logging. */
void log_set_ident(const char *ident);

/* Print one line to stderr if lvl is enabled. */
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
