/* The module's session table (cli_sessions.h). */
#include <stdlib.h>
#include <string.h>

#include "cli_sessions.h"

/* The index of the first entry whose handle is not below h. */
static size_t lower_bound(const struct cli_sessions *t, CK_SESSION_HANDLE h)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].handle < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int cli_sessions_add(struct cli_sessions *t, const struct cli_session *s, CK_SESSION_HANDLE *out)
{
	CK_SESSION_HANDLE h = t->last;
	size_t i;

	if (t->n >= CLI_MAX_SESSIONS)
		return -1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct cli_session *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	/* The next free number after the last one given out; CK_INVALID_HANDLE (0) is never
	 * one. Only after the counter wraps can a number be in use, and then fewer than
	 * CLI_MAX_SESSIONS are. */
	do {
		h++;
		if (h == CK_INVALID_HANDLE)
			h++;
		i = lower_bound(t, h);
	} while (i < t->n && t->v[i].handle == h);
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
	t->v[i] = *s;
	t->v[i].handle = h;
	t->n++;
	t->last = h;
	*out = h;
	return 0;
}

const struct cli_session *cli_sessions_find(const struct cli_sessions *t, CK_SESSION_HANDLE h)
{
	size_t i = lower_bound(t, h);

	return i < t->n && t->v[i].handle == h ? &t->v[i] : NULL;
}

void cli_sessions_remove(struct cli_sessions *t, CK_SESSION_HANDLE h)
{
	size_t i = lower_bound(t, h);

	if (i < t->n && t->v[i].handle == h) {
		memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
		t->n--;
	}
}

void cli_sessions_remove_slot(struct cli_sessions *t, CK_SLOT_ID slot)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].slot != slot)
			t->v[k++] = t->v[i];
	t->n = k;
}

void cli_sessions_clear(struct cli_sessions *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
