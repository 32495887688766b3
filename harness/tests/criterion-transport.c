/* The lean Criterion's transport (driver/acquire/criterion-transport.c),
   seen from the tests it carries: each test here reports through it and
   passes only if the runner answered every message; the pytest side
   (driver/tests/test_criterion.py) reads their outcomes and output.
   Plain Criterion: these check the framework the harness stands on. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const unsigned char req_header[8] = { 0, 'S', 'P', 0, 0, 48, 0, 0 };

/* A stranger on the runner's socket: the test's parent is the runner
   (BoxFort forks it there), which listens at Criterion's address. */
static int stranger(void)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path, sizeof (addr.sun_path), "/tmp/criterion_%d.sock", (int) getppid());
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0, "socket: %s", strerror(errno));
    cr_assert(connect(fd, (struct sockaddr *) &addr, sizeof (addr)) == 0, "connect %s: %s", addr.sun_path,
              strerror(errno));
    return fd;
}

/* Left open with half a frame in: were the runner to wait for the rest,
   this test's own messages after it (its end) would never be answered. */
Test(transport, a_stranger_stalled_mid_frame_holds_up_no_test)
{
    int fd = stranger();
    static const unsigned char half[] = { 1, 0, 0, 0, 0, 0, 0, 0, 64, 0x80 };

    cr_assert(send(fd, req_header, sizeof (req_header), 0) == sizeof (req_header));
    cr_assert(send(fd, half, sizeof (half), 0) == sizeof (half));
    cr_log_warn("transport: sent half a frame and stalled");
}

/* A peer with the wrong protocol's header (REP's, not REQ's): the runner
   hangs up on it, and only on it.  Were the header taken on trust, the
   runner would wait for a request and this recv for the end forever. */
Test(transport, a_peer_of_the_wrong_protocol_is_hung_up_on)
{
    static const unsigned char rep_header[8] = { 0, 'S', 'P', 0, 0, 49, 0, 0 };
    int fd = stranger();
    char reply[64];

    cr_assert(send(fd, rep_header, sizeof (rep_header), 0) == sizeof (rep_header));
    ssize_t n;
    size_t got = 0;
    /* the runner's own header first (8 bytes), then the end of the stream */
    while ((n = recv(fd, reply, sizeof (reply), 0)) > 0)
        got += (size_t) n;
    cr_assert(n == 0 && got == 8, "recv gave %zd after %zu bytes (%s)", n, got, n < 0 ? strerror(errno) : "");
}

/* Longer than any one read of the runner's (4 KiB) many times over. */
Test(transport, a_message_of_many_pages_arrives_whole)
{
    static char text[200001];

    for (size_t i = 0; i < sizeof (text) - 1; ++i)
        text[i] = (char) ('a' + i % 26);
    cr_log_warn("transport: long %s end", text);
}

static void *chatter(void *arg)
{
    for (int i = 0; i < 100; ++i)
        cr_log_warn("transport: thread %d line %d", (int) (intptr_t) arg, i);
    return NULL;
}

/* Criterion's message lock, kept: two threads' reports interleave whole. */
Test(transport, reports_from_two_threads_at_once_all_arrive)
{
    pthread_t t[2];

    for (intptr_t i = 0; i < 2; ++i)
        cr_assert(pthread_create(&t[i], NULL, chatter, (void *) i) == 0);
    for (int i = 0; i < 2; ++i)
        pthread_join(t[i], NULL);
}

/* The runner's own reporter thread (BoxFort's death callback) is a peer
   too: a crash and a timeout reach the report only through it. */
Test(transport, a_crash_is_reported_with_its_signal, .signal = SIGSEGV)
{
    raise(SIGSEGV);
}

Test(transport, a_hang_is_reported_as_a_timeout, .timeout = 0.5)
{
    pause();
}
