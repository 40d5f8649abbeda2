/*
 * The server's worker pool (server/workers.c): every job runs once on a worker thread and then
 * completes on the event loop's thread; jobs start in submission order; workers_free finishes
 * what is queued, including jobs that completions submit.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "workers.h"

#define N_JOBS 2000

struct job {
	struct work w;
	int index;
	int ran;	       /* times run */
	int done;	       /* times completed */
	pthread_t run_thread;  /* where it ran */
	pthread_t done_thread; /* where it completed */
};

static struct {
	pthread_t loop;
	struct event_base *base;
	struct workers *ws;
	pthread_mutex_t mu;
	int run_order[N_JOBS];
	int n_run;
	int n_done;
	int want;
	int follow_up; /* completions still to submit another job */
	struct job extra[16];
	int n_extra;
} g;

static void job_run(struct work *w)
{
	struct job *j = (struct job *)w;

	j->ran++;
	j->run_thread = pthread_self();
	pthread_mutex_lock(&g.mu);
	if (g.n_run < N_JOBS)
		g.run_order[g.n_run] = j->index;
	g.n_run++;
	pthread_mutex_unlock(&g.mu);
}

static void job_done(struct work *w)
{
	struct job *j = (struct job *)w;

	j->done++;
	j->done_thread = pthread_self();
	g.n_done++;
	if (g.follow_up > 0 && g.n_extra < 16) {
		struct job *x = &g.extra[g.n_extra++];

		g.follow_up--;
		memset(x, 0, sizeof(*x));
		x->index = -1;
		x->w.run = job_run;
		x->w.done = job_done;
		workers_submit(g.ws, &x->w);
	}
	if (g.n_done == g.want && g.base)
		event_base_loopbreak(g.base);
}

static void reset(size_t threads)
{
	char err[256];

	memset(&g, 0, sizeof(g));
	pthread_mutex_init(&g.mu, NULL);
	g.loop = pthread_self();
	g.base = event_base_new();
	assert_non_null(g.base);
	g.ws = workers_new(g.base, threads, err, sizeof(err));
	assert_non_null(g.ws);
}

static void teardown(void)
{
	workers_free(g.ws);
	event_base_free(g.base);
	pthread_mutex_destroy(&g.mu);
}

static struct job *jobs_new(int n)
{
	struct job *v = calloc((size_t)n, sizeof(*v));

	assert_non_null(v);
	for (int i = 0; i < n; i++) {
		v[i].index = i;
		v[i].w.run = job_run;
		v[i].w.done = job_done;
	}
	return v;
}

/* 2000 jobs on 4 threads: each runs once off the loop, completes once on it. */
static void test_run_and_complete(void **state)
{
	struct job *v = NULL;
	int off_loop = 0;

	(void)state;
	reset(4);
	v = jobs_new(N_JOBS);
	g.want = N_JOBS;
	for (int i = 0; i < N_JOBS; i++)
		workers_submit(g.ws, &v[i].w);
	assert_int_equal(workers_pending(g.ws), N_JOBS);
	assert_int_equal(event_base_dispatch(g.base), 0);
	assert_int_equal(g.n_done, N_JOBS);
	assert_int_equal(workers_pending(g.ws), 0);
	for (int i = 0; i < N_JOBS; i++) {
		assert_int_equal(v[i].ran, 1);
		assert_int_equal(v[i].done, 1);
		assert_true(pthread_equal(v[i].done_thread, g.loop));
		off_loop += !pthread_equal(v[i].run_thread, g.loop);
	}
	assert_int_equal(off_loop, N_JOBS);
	teardown();
	free(v);
}

/* One thread: jobs start in the order they were submitted. */
static void test_fifo(void **state)
{
	struct job *v = NULL;

	(void)state;
	reset(1);
	v = jobs_new(500);
	g.want = 500;
	for (int i = 0; i < 500; i++)
		workers_submit(g.ws, &v[i].w);
	assert_int_equal(event_base_dispatch(g.base), 0);
	for (int i = 0; i < 500; i++)
		assert_int_equal(g.run_order[i], i);
	teardown();
	free(v);
}

/* workers_free with jobs still queued runs and completes all of them, and the follow-up jobs
 * their completions submit. */
static void test_free_finishes(void **state)
{
	struct job *v = NULL;

	(void)state;
	reset(2);
	v = jobs_new(300);
	g.want = -1; /* never break: there is no loop running */
	g.follow_up = 5;
	for (int i = 0; i < 300; i++)
		workers_submit(g.ws, &v[i].w);
	workers_free(g.ws);
	g.ws = NULL;
	assert_int_equal(g.n_done, 305);
	assert_int_equal(g.n_extra, 5);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(v[i].ran, 1);
		assert_int_equal(v[i].done, 1);
		assert_true(pthread_equal(v[i].done_thread, g.loop));
	}
	for (int i = 0; i < 5; i++) {
		assert_int_equal(g.extra[i].ran, 1);
		assert_int_equal(g.extra[i].done, 1);
	}
	teardown();
	free(v);
}

static void test_zero_threads(void **state)
{
	struct event_base *base = event_base_new();
	char err[256];

	(void)state;
	assert_null(workers_new(base, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "at least one"));
	workers_free(NULL);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_and_complete),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_free_finishes),
		cmocka_unit_test(test_zero_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
