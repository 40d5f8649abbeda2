/*
 * workers: the pool of threads that run token work (DESIGN.md "Server model"), so that the
 * event loop only ever does I/O and TLS. A job runs on some worker; its completion then runs on
 * the event loop's thread, which is the only thread that touches connections.
 */
#ifndef TEEHSM_SERVER_WORKERS_H
#define TEEHSM_SERVER_WORKERS_H

#include <stddef.h>
#include <sys/queue.h>

#include <event2/event.h>

struct work {
	TAILQ_ENTRY(work) link;	      /* owned by the pool while submitted */
	void (*run)(struct work *w);  /* on a worker thread */
	void (*done)(struct work *w); /* afterwards, on the event loop's thread */
};

struct workers;

/* Start n worker threads whose completions are delivered through base. NULL with a reason in
 * err on failure. */
struct workers *workers_new(struct event_base *base, size_t n, char *err, size_t errlen);

/* Queue w; it runs as soon as a worker is free, in submission order. Never fails. */
void workers_submit(struct workers *ws, struct work *w);

/* Jobs submitted and not yet completed (their done not yet called). */
size_t workers_pending(const struct workers *ws);

/* Let every queued and running job finish, call their done callbacks on this (the loop's)
 * thread, stop and join the threads, and free the pool. Accepts NULL. */
void workers_free(struct workers *ws);

#endif
