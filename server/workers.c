/*
 * The worker pool: one FIFO of jobs under one mutex, n threads taking from it, and a list of
 * finished jobs handed back to the event loop through an eventfd. Jobs are small (one PKCS#11
 * call each) and their number is bounded by the connections' caps on calls in flight, so one
 * queue is enough.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "workers.h"

TAILQ_HEAD(work_list, work);

struct workers {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct work_list queue; /* submitted, not yet taken */
	struct work_list done;	/* run, completion not yet delivered */
	int stop;
	size_t pending; /* loop thread only: submitted and not yet completed */
	int efd;	/* readable while done is not empty */
	struct event *ev;
	pthread_t *threads;
	size_t n_threads;
};

static void *worker_main(void *arg)
{
	struct workers *ws = arg;

	pthread_mutex_lock(&ws->mu);
	for (;;) {
		struct work *w = TAILQ_FIRST(&ws->queue);
		int was_empty = 0;
		uint64_t one = 1;

		if (!w) {
			if (ws->stop)
				break;
			pthread_cond_wait(&ws->cv, &ws->mu);
			continue;
		}
		TAILQ_REMOVE(&ws->queue, w, link);
		pthread_mutex_unlock(&ws->mu);
		w->run(w);
		pthread_mutex_lock(&ws->mu);
		was_empty = TAILQ_EMPTY(&ws->done);
		TAILQ_INSERT_TAIL(&ws->done, w, link);
		/* One wake-up per batch: the loop takes the whole list at once. An eventfd write
		 * can only fail when its counter would overflow, and then it is readable anyway. */
		if (was_empty && write(ws->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_error("workers: cannot wake the event loop: %s", strerror(errno));
	}
	pthread_mutex_unlock(&ws->mu);
	return NULL;
}

/* Deliver every finished job's completion (loop thread). */
static void workers_complete(struct workers *ws)
{
	struct work_list batch;
	struct work *w;
	uint64_t n;

	TAILQ_INIT(&batch);
	if (read(ws->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_error("workers: eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&ws->mu);
	TAILQ_CONCAT(&batch, &ws->done, link);
	pthread_mutex_unlock(&ws->mu);
	while ((w = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, w, link);
		ws->pending--;
		w->done(w);
	}
}

static void workers_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	workers_complete(arg);
}

struct workers *workers_new(struct event_base *base, size_t n, char *err, size_t errlen)
{
	struct workers *ws = calloc(1, sizeof(*ws));
	int rc;

	if (!ws || n == 0) {
		snprintf(err, errlen,
			 ws ? "workers: at least one thread is needed" : "out of memory");
		free(ws);
		return NULL;
	}
	TAILQ_INIT(&ws->queue);
	TAILQ_INIT(&ws->done);
	ws->efd = -1;
	if (pthread_mutex_init(&ws->mu, NULL) != 0) {
		snprintf(err, errlen, "workers: cannot create a mutex");
		free(ws);
		return NULL;
	}
	if (pthread_cond_init(&ws->cv, NULL) != 0) {
		snprintf(err, errlen, "workers: cannot create a condition variable");
		pthread_mutex_destroy(&ws->mu);
		free(ws);
		return NULL;
	}
	ws->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ws->threads = calloc(n, sizeof(*ws->threads));
	if (ws->efd < 0 || !ws->threads) {
		snprintf(err, errlen, "workers: %s",
			 ws->efd < 0 ? strerror(errno) : "out of memory");
		goto fail;
	}
	ws->ev = event_new(base, ws->efd, EV_READ | EV_PERSIST, workers_ready_cb, ws);
	if (!ws->ev || event_add(ws->ev, NULL) != 0) {
		snprintf(err, errlen, "workers: cannot watch the completion queue");
		goto fail;
	}
	for (; ws->n_threads < n; ws->n_threads++) {
		rc = pthread_create(&ws->threads[ws->n_threads], NULL, worker_main, ws);
		if (rc != 0) {
			snprintf(err, errlen, "workers: cannot start thread %zu of %zu: %s",
				 ws->n_threads + 1, n, strerror(rc));
			goto fail;
		}
	}
	return ws;
fail:
	workers_free(ws);
	return NULL;
}

void workers_submit(struct workers *ws, struct work *w)
{
	ws->pending++;
	pthread_mutex_lock(&ws->mu);
	TAILQ_INSERT_TAIL(&ws->queue, w, link);
	pthread_cond_signal(&ws->cv);
	pthread_mutex_unlock(&ws->mu);
}

size_t workers_pending(const struct workers *ws)
{
	return ws->pending;
}

void workers_free(struct workers *ws)
{
	if (!ws)
		return;
	/* The threads empty the queue before they see stop. */
	pthread_mutex_lock(&ws->mu);
	ws->stop = 1;
	pthread_cond_broadcast(&ws->cv);
	pthread_mutex_unlock(&ws->mu);
	for (size_t i = 0; i < ws->n_threads; i++)
		pthread_join(ws->threads[i], NULL);
	/* Completions may submit follow-up jobs: with the threads gone, run those here. */
	while (ws->efd >= 0) {
		struct work *w;

		workers_complete(ws);
		if (TAILQ_EMPTY(&ws->queue))
			break;
		while ((w = TAILQ_FIRST(&ws->queue)) != NULL) {
			TAILQ_REMOVE(&ws->queue, w, link);
			w->run(w);
			TAILQ_INSERT_TAIL(&ws->done, w, link);
		}
	}
	if (ws->ev)
		event_free(ws->ev);
	if (ws->efd >= 0)
		close(ws->efd);
	free(ws->threads);
	pthread_cond_destroy(&ws->cv);
	pthread_mutex_destroy(&ws->mu);
	free(ws);
}
