/* win32/thread.c - threads, semaphores, clocks and aligned memory (Win32). */
#include <limits.h>
#include <malloc.h>
#include <process.h>

#include "../alloc.h"
#include "../error.h"
#include "../platform.h"

void *up_aligned_alloc(size_t align, size_t size)
{
    return _aligned_malloc(size, align);
}

void up_aligned_free(void *ptr)
{
    _aligned_free(ptr);
}

/* What a new thread runs; freed by the thread itself. */
struct start {
    void *(*fn)(void *);
    void *arg;
};

static unsigned __stdcall thread_main(void *p)
{
    struct start s = *(struct start *)p;
    up_free(p);
    s.fn(s.arg);
    return 0;
}

int up_thread_start(up_thread *t, void *(*fn)(void *), void *arg, const char *name)
{
    (void)name; /* SetThreadDescription() needs Windows 10 */
    struct start *s = up_calloc(1, sizeof(*s));
    if (!s)
        return UP_ENOMEM;
    s->fn = fn;
    s->arg = arg;
    /* _beginthreadex, not CreateThread: the C runtime sets up per thread. */
    uintptr_t h = _beginthreadex(NULL, 0, thread_main, s, 0, NULL);
    if (h == 0) {
        up_free(s);
        return UP_EIO;
    }
    *t = (HANDLE)h;
    return UP_OK;
}

void up_thread_join(up_thread t)
{
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
}

void up_thread_detach(up_thread t)
{
    CloseHandle(t); /* the thread runs on; its resources go when it ends */
}

int up_sem_init(up_sem *s)
{
    *s = CreateSemaphoreA(NULL, 0, LONG_MAX, NULL);
    if (!*s)
        return up_last_error();
    return UP_OK;
}

void up_sem_destroy(up_sem *s)
{
    CloseHandle(*s);
}

void up_sem_post(up_sem *s)
{
    ReleaseSemaphore(*s, 1, NULL);
}

int up_sem_wait(up_sem *s, int timeout_ms)
{
    DWORD r = WaitForSingleObject(*s, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
    if (r == WAIT_OBJECT_0)
        return UP_OK;
    if (r == WAIT_TIMEOUT)
        return UP_ETIMEDOUT;
    return up_last_error();
}

void up_sleep_ms(int ms)
{
    Sleep((DWORD)ms);
}

uint64_t up_now_ns(void)
{
    LARGE_INTEGER freq, now; /* the frequency is fixed at boot; reading it is cheap */
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    uint64_t f = (uint64_t)freq.QuadPart, c = (uint64_t)now.QuadPart;
    /* Split to keep c * 1e9 from overflowing. */
    return c / f * 1000000000u + c % f * 1000000000u / f;
}

/* 100-nanosecond FILETIME units. */
static uint64_t ft64(FILETIME ft)
{
    return (uint64_t)ft.dwHighDateTime << 32 | ft.dwLowDateTime;
}

double up_wall_time(void)
{
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    /* FILETIME counts from 1601-01-01; the Unix epoch is 11644473600 s later. */
    return (double)(ft64(ft) - 116444736000000000ull) / 1e7;
}

double up_process_cpu(void)
{
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user))
        return 0.0;
    return (double)(ft64(kernel) + ft64(user)) / 1e7;
}
