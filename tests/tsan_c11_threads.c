/* C11 <threads.h> over POSIX threads, linked only into the tests of a
 * ThreadSanitizer build (-Db_sanitize=thread, see tests/meson.build).
 *
 * Why: glibc >= 2.34 implements thrd_create and mtx_lock without going
 * through the interposable pthread symbols, and the ThreadSanitizer of
 * GCC 12 / clang 14 does not intercept the C11 names. Threads made by
 * thrd_create then run without TSan's per-thread state (it crashes) and
 * the store's mtx_lock is invisible to it (every access looks like a
 * race). Defined in the test executable, these functions take precedence
 * over glibc's for the test and for libprivdomain alike, and map onto the
 * pthread functions TSan does understand. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

/* glibc's mtx_t has the size and alignment of pthread_mutex_t. */
_Static_assert(sizeof(mtx_t) >= sizeof(pthread_mutex_t),
               "mtx_t cannot hold a pthread mutex");

typedef struct start {
  thrd_start_t fn;
  void *arg;
} start;

static void *trampoline(void *p) {
  start s = *(start *)p;
  free(p);
  return (void *)(intptr_t)s.fn(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t fn, void *arg) {
  start *s = malloc(sizeof *s);
  if (!s) return thrd_nomem;
  s->fn = fn;
  s->arg = arg;
  pthread_t t;
  if (pthread_create(&t, NULL, trampoline, s) != 0) {
    free(s);
    return thrd_error;
  }
  *thr = (thrd_t)t;
  return thrd_success;
}

int thrd_join(thrd_t thr, int *res) {
  void *r;
  if (pthread_join((pthread_t)thr, &r) != 0) return thrd_error;
  if (res) *res = (int)(intptr_t)r;
  return thrd_success;
}

void thrd_yield(void) { sched_yield(); }

int mtx_init(mtx_t *m, int type) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  if (type & mtx_recursive)
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  int r = pthread_mutex_init((pthread_mutex_t *)m, &a);
  pthread_mutexattr_destroy(&a);
  return r == 0 ? thrd_success : thrd_error;
}

int mtx_lock(mtx_t *m) {
  return pthread_mutex_lock((pthread_mutex_t *)m) == 0 ? thrd_success
                                                      : thrd_error;
}

int mtx_trylock(mtx_t *m) {
  return pthread_mutex_trylock((pthread_mutex_t *)m) == 0 ? thrd_success
                                                         : thrd_busy;
}

int mtx_unlock(mtx_t *m) {
  return pthread_mutex_unlock((pthread_mutex_t *)m) == 0 ? thrd_success
                                                        : thrd_error;
}

void mtx_destroy(mtx_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m); }

/* Condition variables too: glibc's cnd_wait releases and retakes the
 * mutex out of TSan's sight, which then reports the next mtx_lock as a
 * double lock. */
_Static_assert(sizeof(cnd_t) >= sizeof(pthread_cond_t),
               "cnd_t cannot hold a pthread condition variable");

int cnd_init(cnd_t *c) {
  return pthread_cond_init((pthread_cond_t *)c, NULL) == 0 ? thrd_success
                                                           : thrd_error;
}

int cnd_wait(cnd_t *c, mtx_t *m) {
  return pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m) == 0
             ? thrd_success
             : thrd_error;
}

int cnd_signal(cnd_t *c) {
  return pthread_cond_signal((pthread_cond_t *)c) == 0 ? thrd_success
                                                       : thrd_error;
}

int cnd_broadcast(cnd_t *c) {
  return pthread_cond_broadcast((pthread_cond_t *)c) == 0 ? thrd_success
                                                          : thrd_error;
}

void cnd_destroy(cnd_t *c) { pthread_cond_destroy((pthread_cond_t *)c); }
