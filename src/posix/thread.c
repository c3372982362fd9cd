/* posix/thread.c - threads, semaphores, clocks and aligned memory (POSIX). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../error.h"
#include "../platform.h"

void *up_aligned_alloc(size_t align, size_t size)
{
    void *p = NULL;
    if (posix_memalign(&p, align, size) != 0)
        return NULL;
    return p;
}

void up_aligned_free(void *ptr)
{
    free(ptr);
}

int up_thread_start(up_thread *t, void *(*fn)(void *), void *arg, const char *name)
{
    int r = pthread_create(t, NULL, fn, arg);
    if (r != 0)
        return up_error_from_sys(r);
#ifdef __linux__
    if (name) {
        char buf[16]; /* the kernel keeps 15 characters */
        strncpy(buf, name, sizeof(buf) - 1);
        buf[sizeof(buf) - 1] = '\0';
        pthread_setname_np(*t, buf);
    }
#else
    (void)name;
#endif
    return UP_OK;
}

void up_thread_join(up_thread t)
{
    pthread_join(t, NULL);
}

void up_thread_detach(up_thread t)
{
    pthread_detach(t);
}

int up_sem_init(up_sem *s)
{
    if (sem_init(s, 0, 0) < 0)
        return up_last_error();
    return UP_OK;
}

void up_sem_destroy(up_sem *s)
{
    sem_destroy(s);
}

void up_sem_post(up_sem *s)
{
    sem_post(s);
}

int up_sem_wait(up_sem *s, int timeout_ms)
{
    if (timeout_ms < 0) {
        while (sem_wait(s) < 0)
            if (errno != EINTR)
                return up_last_error();
        return UP_OK;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (sem_clockwait(s, CLOCK_MONOTONIC, &ts) < 0) {
        if (errno == ETIMEDOUT)
            return UP_ETIMEDOUT;
        if (errno != EINTR)
            return up_last_error();
    }
    return UP_OK;
}

void up_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

uint64_t up_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double up_wall_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double up_process_cpu(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return 0.0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}
