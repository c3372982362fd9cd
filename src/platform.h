/*
 * platform.h - the one internal header in front of the operating system.
 *
 * Shared code (the .c files in src/) talks to sockets, threads, clocks and signals only
 * through this header. The implementations live side by side:
 *   src/posix/   Linux and other POSIX systems
 *   src/win32/   Windows (Winsock2, Win32 threads, console control)
 * CMake picks the folder per target OS. Batched datagram I/O has a fast path
 * that only Linux has (recvmmsg/sendmmsg, src/posix/io_mmsg.c); elsewhere the
 * same interface loops single calls.
 *
 * All functions return 0 / a count, or a negative code from error.h.
 */
#ifndef UP_PLATFORM_H
#define UP_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
typedef SOCKET up_sock;
#define UP_SOCK_INVALID INVALID_SOCKET
typedef WSABUF up_buf; /* scatter/gather element */
#define UP_BUF_SET(b, p, l) ((b).buf = (char *)(p), (b).len = (ULONG)(l))
#define UP_BUF_BASE(b) ((void *)(b).buf)
#define UP_BUF_LEN(b) ((size_t)(b).len)
typedef HANDLE up_thread;
typedef HANDLE up_sem;
typedef int up_socklen;
#else
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/socket.h>
#include <sys/uio.h>
typedef int up_sock;
#define UP_SOCK_INVALID (-1)
typedef struct iovec up_buf; /* scatter/gather element */
#define UP_BUF_SET(b, p, l) ((b).iov_base = (void *)(p), (b).iov_len = (size_t)(l))
#define UP_BUF_BASE(b) ((b).iov_base)
#define UP_BUF_LEN(b) ((b).iov_len)
typedef pthread_t up_thread;
typedef sem_t up_sem;
typedef socklen_t up_socklen;
#endif

/* ---- errors ---------------------------------------------------------- */

/* The last system error of this thread, translated into error.h's set. */
int up_last_error(void);

/* ---- memory ----------------------------------------------------------- */

/* Raw aligned allocation; use up_calloc_aligned() (alloc.h) instead. */
void *up_aligned_alloc(size_t align, size_t size);
void up_aligned_free(void *ptr);

/* Reserved memory (src/posix/vmem.c, src/win32/vmem.c), for big areas of
 * which only a part may ever be used (the packet pool): reserve address
 * space at start-up, charged to nothing (neither RAM + pagefile on Windows
 * nor the vm.overcommit_memory=2 limit on Linux), then commit the pages
 * where they are first needed. Use the wrappers in alloc.h (up_reserve,
 * up_commit, up_unreserve): they count and can inject failures. */

/* The unit of a commit, bytes (the page size, a power of two). */
size_t up_vmem_page(void);

/* Reserve `size` bytes (a multiple of up_vmem_page()) of inaccessible
 * address space, page aligned. NULL when refused (no room, or limits). */
void *up_vmem_reserve(size_t size);

/* Make the whole pages [addr, addr + size) of a reservation readable and
 * writable; they read as zero until written. Committing committed pages
 * again changes nothing. Returns UP_OK or UP_ENOMEM (commit limit, or the
 * system refuses). */
int up_vmem_commit(void *addr, size_t size);

/* Give back a whole reservation (addr and size as reserved). */
void up_vmem_release(void *addr, size_t size);

/* ---- sockets ---------------------------------------------------------- */

/* Once per process before any socket call (WSAStartup on Windows). */
int up_net_init(void);

/* Open a UDP socket of `family` (AF_INET, AF_INET6). nonblocking: every
 * call on it returns UP_EAGAIN instead of waiting (target sockets); a
 * blocking socket (source) waits in up_udp_recv_batch(wait=true) at most
 * the time set by up_sock_set_rcvtimeo(). */
int up_udp_open(int family, bool nonblocking, up_sock *out);

/* Bound the time a blocking receive waits, so a reader can notice a stop
 * request while idle (a few wake-ups per second: no measurable CPU). */
int up_sock_set_rcvtimeo(up_sock s, int timeout_ms);

/* Bind `s`. reuseport: allow several sockets on the same address
 * (SO_REUSEPORT, Linux: the kernel spreads datagrams over them).
 * v6only: for AF_INET6, false makes [::] accept IPv4 too.
 * Returns UP_EADDRINUSE, UP_EACCES, UP_EADDRNOTAVAIL... on failure. */
int up_udp_bind(up_sock s, const struct sockaddr *sa, up_socklen len, bool reuseport, bool v6only);

/* 1 where several UDP sockets can share one address (SO_REUSEPORT: more
 * than one reader, a reload rebinding onto an overlapping address); 0
 * elsewhere (Windows, which has no equivalent: --readers must stay 1 and
 * nothing may ask for it there). */
#if !defined(_WIN32) && defined(SO_REUSEPORT)
#define UP_HAVE_REUSEPORT 1
#else
#define UP_HAVE_REUSEPORT 0
#endif

/* A source rebind onto the same address (reload): the old and the new
 * sockets are one SO_REUSEPORT group, numbered by the kernel in the order
 * they joined (a closed socket's slot is taken by the group's last one).
 * up_udp_steer_slots() makes the group send every datagram to one of
 * slots[0..n) (Linux: a classic BPF program on the group, by CPU), so the
 * old sockets get nothing more and close after one last emptying.
 * UP_EAFNOSUPPORT where the system cannot steer (then the kernel spreads
 * datagrams over old and new sockets; the readers still empty the old
 * ones). up_udp_steer_clear() goes back to the kernel's hash. */
int up_udp_steer_slots(up_sock s, const unsigned *slots, unsigned n);
void up_udp_steer_clear(up_sock s);

/* Connect `s` to the target address (datagram sockets: sets the peer). */
int up_udp_connect(up_sock s, const struct sockaddr *sa, up_socklen len);

/* Ask for a receive (rcv=true) or send buffer of `bytes`. Where the kernel
 * caps the request, the privileged override is tried (SO_RCVBUFFORCE).
 * *actual receives what the kernel granted (as it reports it).
 * Returns UP_OK, or UP_ERANGE when the grant is smaller than asked. */
int up_sock_set_buffer(up_sock s, bool rcv, int bytes, int *actual);

/* Stop receiving on s: a thread blocked in a receive on it returns at
 * once; what is queued can still be read. Errors are ignored. */
void up_sock_shutdown_read(up_sock s);

/* Close; safe on UP_SOCK_INVALID. */
void up_sock_close(up_sock s);

/* Wait until `s` is readable (write=false) or writable (write=true).
 * Returns 1 when ready, 0 on timeout, negative on error. */
int up_sock_wait(up_sock s, bool write, int timeout_ms);

/* The kernel's cumulative count of datagrams dropped because this socket's
 * receive buffer was full (the value SO_RXQ_OVFL reports). UP_EAFNOSUPPORT
 * where the system does not tell. */
int up_sock_rx_drops(up_sock s, uint64_t *drops);

/* The local address of a bound socket. */
int up_sock_local_addr(up_sock s, struct sockaddr_storage *ss, up_socklen *len);

/* ---- TCP streams (the metrics HTTP server) ------------------------------ */

/* Open a non-blocking TCP socket bound to `sa` and listening with `backlog`.
 * SO_REUSEADDR is set (a restart does not wait for TIME_WAIT); an AF_INET6
 * address also accepts IPv4 (v6only off). Returns UP_OK, or UP_EADDRINUSE,
 * UP_EACCES, UP_EADDRNOTAVAIL... The caller owns *out (up_sock_close). */
int up_tcp_listen(const struct sockaddr *sa, up_socklen len, int backlog, up_sock *out);

/* Accept one pending connection from the listening socket `l`; the new
 * socket is non-blocking and owned by the caller. Returns UP_OK, UP_EAGAIN
 * when none is pending (also for connections reset before accept), or an
 * error (UP_ENOMEM... when out of descriptors: the caller backs off). */
int up_tcp_accept(up_sock l, up_sock *out);

/* Receive up to `size` (> 0) bytes without waiting. Returns the count (> 0),
 * UP_ECLOSED when the peer has closed its side (end of stream), UP_EAGAIN
 * when nothing is there yet, or another error (connection reset...). */
int up_tcp_recv(up_sock s, void *buf, size_t size);

/* Send up to `size` bytes without waiting (never raises SIGPIPE). Returns
 * the count accepted (> 0, may be less than size), UP_EAGAIN when the send
 * buffer is full, or an error (peer gone...). */
int up_tcp_send(up_sock s, const void *buf, size_t size);

/* Connect a new TCP socket to `sa`, waiting at most timeout_ms (a client:
 * `udp-proxy stats` reading /metrics). The socket is non-blocking and owned
 * by the caller. Returns UP_OK, UP_ETIMEDOUT, UP_ECONNREFUSED,
 * UP_EHOSTUNREACH... */
int up_tcp_connect(const struct sockaddr *sa, up_socklen len, int timeout_ms, up_sock *out);

/* Half-close: tell the peer we send nothing more (FIN), keep reading.
 * Returns UP_OK or an error (the caller just closes then). */
int up_tcp_shutdown_write(up_sock s);

#define UP_POLL_IN 1u  /* readable, or a connection to accept, or end of stream */
#define UP_POLL_OUT 2u /* writable */
#define UP_POLL_ERR 4u /* error or hang-up (revents only; always reported) */

/* One socket to watch in up_sock_poll(). */
struct up_pollsock {
    up_sock sock;     /* UP_SOCK_INVALID: ignored, revents stays 0 */
    unsigned events;  /* UP_POLL_IN | UP_POLL_OUT */
    unsigned revents; /* filled by up_sock_poll: UP_POLL_* that happened */
};

#define UP_POLL_MAX 128 /* most sockets one up_sock_poll() call watches */

/* Wait up to timeout_ms (< 0: forever) until one of p[0..n) is ready;
 * n <= UP_POLL_MAX (else UP_EINVAL). Returns the number of entries with revents != 0 (0 on timeout or when a
 * signal interrupted the wait), or an error. */
int up_sock_poll(struct up_pollsock *p, size_t n, int timeout_ms);

/* Make `fresh` take the place of `old`: afterwards the descriptor `old`
 * refers to the socket `fresh` was (POSIX: dup2, atomic for other threads
 * using `old`), and `fresh` is closed. For a target whose address changed
 * family. Returns UP_OK or an error (then nothing changed, fresh is closed). */
int up_sock_replace(up_sock old, up_sock fresh);

/* ---- Unix datagram sockets ---------------------------------------------- */

/* Fill ss with the Unix socket address of `path`. Returns UP_OK or
 * UP_EINVAL (empty, or too long for a socket address); UP_EAFNOSUPPORT
 * where the system has no Unix datagram sockets. */
int up_unix_addr(const char *path, struct sockaddr_storage *ss, up_socklen *len);

/* The path inside a Unix socket address made by up_unix_addr(). */
const char *up_unix_path(const struct sockaddr_storage *ss);

/* Bind the Unix datagram socket `s` at ss's path and give the file `mode`.
 * A socket file left by a crashed run (nobody receives on it) is removed
 * first; a live one gives UP_EADDRINUSE; anything that is not a socket is
 * never removed: UP_ENOTSOCK. */
int up_unix_bind(up_sock s, const struct sockaddr_storage *ss, up_socklen len, unsigned mode);

/* Remove the socket file at ss's path if it still is a socket. */
void up_unix_unlink(const struct sockaddr_storage *ss);

/* ---- batched datagram I/O ---------------------------------------------- */

#define UP_DGRAM_TRUNC 1u /* the datagram was larger than the buffers */

/* One datagram: up to two buffers (a small slot and an optional large
 * continuation), the length received or to send, flags (UP_DGRAM_*). */
struct up_dgram {
    up_buf iov[2];
    uint32_t iovcnt; /* 1 or 2 */
    uint32_t len;    /* bytes received (may exceed the buffers if TRUNC) / to send */
    uint32_t flags;  /* UP_DGRAM_TRUNC after a receive */
};

/* Per-thread scratch for batched I/O (mmsghdr arrays on Linux). Opaque. */
struct up_io;

/* Make scratch for batches of up to `cap` datagrams. Owned by the caller,
 * released with up_io_free(). */
int up_io_new(size_t cap, struct up_io **out);
void up_io_free(struct up_io *io);

/* Receive up to `n` datagrams (n <= cap) into dg[0..n). wait=true waits for
 * the first datagram (at most the socket's receive timeout), then takes what
 * is queued without waiting. Returns the count received (>= 1), UP_EAGAIN
 * when nothing came (nothing queued, or the timeout passed), or another
 * error. */
int up_udp_recv_batch(up_sock s, struct up_io *io, struct up_dgram *dg, size_t n, bool wait);

/* As up_udp_recv_batch(), and also store each sender's address in from[i]
 * (only used when an --allow list needs it: the kernel copies it per
 * datagram). */
int up_udp_recv_batch_from(up_sock s, struct up_io *io, struct up_dgram *dg, size_t n, bool wait,
                           struct sockaddr_storage *from);

/* Send dg[0..n) on the connected socket `s` without blocking. Returns the
 * count sent (>= 1), or for dg[0]: UP_EAGAIN (socket buffer full) or the
 * error of that one datagram (the caller counts it and goes on). */
int up_udp_send_batch(up_sock s, struct up_io *io, const struct up_dgram *dg, size_t n);

/* ---- threads, semaphores, clock ----------------------------------------- */

int up_thread_start(up_thread *t, void *(*fn)(void *), void *arg, const char *name);
void up_thread_join(up_thread t);
/* Let t run on unjoined: its resources are released when it ends. */
void up_thread_detach(up_thread t);

int up_sem_init(up_sem *s);
void up_sem_destroy(up_sem *s);
void up_sem_post(up_sem *s);
/* timeout_ms < 0: wait forever. Returns UP_OK or UP_ETIMEDOUT. */
int up_sem_wait(up_sem *s, int timeout_ms);

/* Sleep the calling thread. */
void up_sleep_ms(int ms);

/* Monotonic clock, nanoseconds. */
uint64_t up_now_ns(void);
/* Wall clock, seconds since the Unix epoch (with fraction). */
double up_wall_time(void);
/* CPU time of this process, seconds (user + system). */
double up_process_cpu(void);

/* ---- process control ---------------------------------------------------- */

enum up_ctrl_event {
    UP_CTRL_NONE = 0,   /* timeout: nothing happened */
    UP_CTRL_STOP = 1,   /* SIGINT/SIGTERM, Ctrl+C, Ctrl+Break, console close */
    UP_CTRL_RELOAD = 2, /* SIGHUP */
    UP_CTRL_REOPEN = 3, /* SIGUSR1: reopen the log file (logrotate) */
    UP_CTRL_REEXEC = 4, /* SIGUSR2: re-exec in place keeping the sockets (reexec.h; never on Windows) */
};

/* 1 where a process can exec a new image and keep its sockets (POSIX). */
#ifdef _WIN32
#define UP_HAVE_REEXEC 0
#else
#define UP_HAVE_REEXEC 1
#endif

/* Route stop/reload requests to up_ctrl_wait(). Call in the main thread
 * before starting other threads (POSIX: blocks the signals process-wide). */
int up_ctrl_init(void);

/* Wait up to timeout_ms (< 0: forever) for a stop or reload request. */
int up_ctrl_wait(int timeout_ms);

/* Ask the process to stop as if a stop signal arrived (service stop). */
void up_ctrl_request_stop(void);

#endif
