/* Criterion's protocol without nanomsg: ipcproof's replacement for
   Criterion 2.4.1's src/protocol/connect.c, put in place by
   driver/acquire/criterion.py before the lean build.

   Criterion speaks request and reply over nanomsg's REQ/REP sockets: each
   process that reports (a test; the runner's thread that reports deaths)
   sends one message and waits for its ack before the next, and the runner
   answers each in turn.  nanomsg does it with a worker thread in every
   process, eventfds and epoll: several thread switches and dozens of
   system calls a message, which an emulated or ptraced kernel (TCG, UML,
   gVisor) pays dearly for at every test.  Here the same exchange is
   blocking calls on Unix stream sockets: a test sends and reads; the
   runner polls its listening socket and its peers, each peer's bytes
   buffered until a whole frame is in, so that no peer, however it stalls,
   holds up the others.  The bytes are nanomsg's own (its SP header, its
   ipc framing, REQ's request id), so either end still talks to nanomsg. */

#include "config.h"
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol/connect.h"

#define SP_REQ 48
#define SP_REP 49
#define MAX_MSG (1u << 20)

static const unsigned char sp_header[2][8] = {
    { 0, 'S', 'P', 0, 0, SP_REQ, 0, 0 },
    { 0, 'S', 'P', 0, 0, SP_REP, 0, 0 },
};

/* out: 0 receives, else the send's flags (with MSG_NOSIGNAL). */
static int io_all(int fd, void *buf, size_t len, int out)
{
    unsigned char *p = buf;

    while (len) {
        ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL | (out & MSG_DONTWAIT)) : recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            errno = ECONNRESET;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
    while (n--) {
        p[n] = (unsigned char) v;
        v >>= 8;
    }
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; ++i)
        v = v << 8 | p[i];
    return v;
}

/* One frame: message type 1 (normal), the length, the request id (top bit
   set: the end of REQ's backtrace), the body; one send, so that a frame
   is never left half-written by a process stopped between two.  out: as
   io_all's. */
static int send_frame(int fd, uint32_t id, const void *buf, size_t len, int out)
{
    unsigned char *frame = malloc(13 + len);

    if (!frame)
        return -1;
    frame[0] = 1;
    put_be(frame + 1, len + 4, 8);
    put_be(frame + 9, id | 0x80000000u, 4);
    memcpy(frame + 13, buf, len);
    int rc = io_all(fd, frame, 13 + len, out);
    free(frame);
    return rc;
}

/* A Unix stream socket for an "ipc://PATH" url, PATH in *addr. */
static int unix_socket(const char *url, struct sockaddr_un *addr)
{
    *addr = (struct sockaddr_un) { .sun_family = AF_UNIX };
    if (strncmp(url, "ipc://", 6) || strlen(url + 6) >= sizeof (addr->sun_path)) {
        errno = EINVAL;
        return -1;
    }
    strcpy(addr->sun_path, url + 6);
    return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static int close_failed(int fd)
{
    int err = errno;

    close(fd);
    errno = err;
    return -1;
}

/* The client: at most one per process is in use at a time (Criterion's
   message mutex); its peer's header is read with the first reply, so that
   the runner can connect to itself before it serves. */
static struct {
    int fd;
    int greeted;
    uint32_t id;
} client = { .fd = -1 };

int cri_proto_connect(const char *url)
{
    struct sockaddr_un addr;
    int fd = unix_socket(url, &addr);

    if (fd < 0)
        return -1;
    int rc;
    do {
        rc = connect(fd, (struct sockaddr *) &addr, sizeof (addr));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0 || io_all(fd, (void *) sp_header[0], 8, 1) < 0)
        return close_failed(fd);
    client.fd = fd;
    client.greeted = 0;
    client.id = (uint32_t) getpid() * 2654435761u;
    return fd;
}

/* The server: the listening socket, and the peers with what each has sent
   so far. */
struct peer {
    int fd;
    int greeted;
    unsigned char *buf;
    size_t len, cap;
};

static struct {
    int fd;
    char path[sizeof (((struct sockaddr_un *) 0)->sun_path)];
    struct peer *peers;
    size_t npeers, cap, next;
    int current;            /* the peer whose request waits for its reply */
    uint32_t current_id;
    int accept_paused;      /* out of fds or memory: accept again later */
} server = { .fd = -1, .current = -1 };

int cri_proto_bind(const char *url)
{
    struct sockaddr_un addr;
    int fd = unix_socket(url, &addr);

    if (fd < 0)
        return -1;
    /* A socket file nobody listens on is a dead runner's: it goes, as
       nanomsg's bind does it; a live one is left alone (EADDRINUSE). */
    if (bind(fd, (struct sockaddr *) &addr, sizeof (addr)) < 0) {
        if (errno != EADDRINUSE)
            return close_failed(fd);
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *) &addr, sizeof (addr)) < 0
                && errno == ECONNREFUSED)
            unlink(addr.sun_path);
        if (probe >= 0)
            close(probe);
        if (bind(fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
            return close_failed(fd);
    }
    if (listen(fd, SOMAXCONN) < 0)
        return close_failed(fd);
    server.fd = fd;
    strcpy(server.path, addr.sun_path);
    return fd;
}

static void drop_peer(size_t i)
{
    close(server.peers[i].fd);
    free(server.peers[i].buf);
    if (server.current == server.peers[i].fd)
        server.current = -1;
    server.peers[i] = server.peers[--server.npeers];
    server.accept_paused = 0;
}

static int accept_peer(void)
{
    int fd = accept4(server.fd, NULL, NULL, SOCK_CLOEXEC);

    /* Out of fds or memory, the connection waits in the backlog: the
       listening socket is left out of the poll until a peer goes (an fd
       freed) or a retry's interval has passed, as nanomsg backs off;
       ending the loop would cut off every test still running. */
    if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
        server.accept_paused = 1;
        return 0;
    }
    if (fd < 0)
        return errno == EINTR || errno == EAGAIN || errno == ECONNABORTED ? 0 : -1;
    if (io_all(fd, (void *) sp_header[1], 8, MSG_DONTWAIT) < 0) {
        close(fd);
        return 0;
    }
    if (server.npeers == server.cap) {
        size_t cap = server.cap ? server.cap * 2 : 16;
        struct peer *p = realloc(server.peers, cap * sizeof (*p));
        if (!p) {
            close(fd);
            return -1;
        }
        server.peers = p;
        server.cap = cap;
    }
    server.peers[server.npeers++] = (struct peer) { .fd = fd };
    return 0;
}

/* A whole request from peer i, if it has sent one (1): its body in *out,
   its length in *len; 0 if none yet, -1 if the peer broke the protocol. */
static int take_frame(size_t i, unsigned char **out, int *outlen)
{
    struct peer *p = &server.peers[i];

    if (!p->greeted && p->len >= 8) {
        if (memcmp(p->buf, sp_header[0], 8))
            return -1;
        p->greeted = 1;
        memmove(p->buf, p->buf + 8, p->len -= 8);
    }
    if (!p->greeted || p->len < 9)
        return 0;
    uint64_t len = get_be(p->buf + 1, 8);
    if (p->buf[0] != 1 || len < 4 || len > MAX_MSG)
        return -1;
    if (p->len < 9 + len)
        return 0;
    uint32_t id = (uint32_t) get_be(p->buf + 9, 4);
    if (!(id & 0x80000000u))
        return -1;
    unsigned char *body = malloc(len - 4 ? len - 4 : 1);
    if (!body)
        return -1;
    memcpy(body, p->buf + 13, len - 4);
    memmove(p->buf, p->buf + 9 + len, p->len -= 9 + len);
    server.current = p->fd;
    server.current_id = id;
    *out = body;
    *outlen = (int) (len - 4);
    return 1;
}

static int fill(size_t i)
{
    struct peer *p = &server.peers[i];

    if (p->cap - p->len < 4096) {
        unsigned char *b = realloc(p->buf, p->cap + 4096 + (p->cap >> 1));
        if (!b)
            return -1;
        p->buf = b;
        p->cap += 4096 + (p->cap >> 1);
    }
    ssize_t n = recv(p->fd, p->buf + p->len, p->cap - p->len, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0)
        return -1;
    p->len += (size_t) n;
    return 0;
}

static int server_recv(unsigned char **out)
{
    for (;;) {
        /* the peers in turn, from the one after the last served */
        int dropped = 0;
        for (size_t k = 0; k < server.npeers; ++k) {
            size_t i = (server.next + k) % server.npeers;
            int len, rc = take_frame(i, out, &len);
            if (rc < 0) {
                drop_peer(i);
                dropped = 1;
                break;
            }
            if (rc > 0) {
                server.next = i + 1;
                return len;
            }
        }
        if (dropped)
            continue;

        struct pollfd *fds = malloc((server.npeers + 1) * sizeof (*fds));
        if (!fds)
            return -1;
        fds[0] = (struct pollfd) { .fd = server.accept_paused ? -1 : server.fd, .events = POLLIN };
        for (size_t i = 0; i < server.npeers; ++i)
            fds[i + 1] = (struct pollfd) { .fd = server.peers[i].fd, .events = POLLIN };
        size_t n = server.npeers;
        int rc = poll(fds, n + 1, server.accept_paused ? 100 : -1);
        if (rc < 0 && errno != EINTR) {
            free(fds);
            return -1;
        }
        if (rc == 0)
            server.accept_paused = 0;
        /* downwards: a dropped peer's place takes one already seen */
        for (size_t i = n; rc > 0 && i-- > 0;)
            if (fds[i + 1].revents && fill(i) < 0)
                drop_peer(i);
        int listening = rc > 0 && fds[0].fd >= 0 && fds[0].revents;
        free(fds);
        if (listening && accept_peer() < 0)
            return -1;
    }
}

static int client_recv(unsigned char **out)
{
    if (!client.greeted) {
        unsigned char peer[8];
        if (io_all(client.fd, peer, 8, 0) < 0)
            return -1;
        if (memcmp(peer, sp_header[1], 8)) {
            errno = EPROTO;
            return -1;
        }
        client.greeted = 1;
    }
    /* a reply to an earlier request (none is ever resent here) is
       dropped, as nanomsg's REQ does */
    for (;;) {
        unsigned char hdr[9];
        if (io_all(client.fd, hdr, 9, 0) < 0)
            return -1;
        uint64_t len = get_be(hdr + 1, 8);
        if (hdr[0] != 1 || len < 4 || len > MAX_MSG) {
            errno = EPROTO;
            return -1;
        }
        unsigned char *msg = malloc(len);
        if (!msg || io_all(client.fd, msg, len, 0) < 0) {
            free(msg);
            return -1;
        }
        if (get_be(msg, 4) == (client.id | 0x80000000u)) {
            memmove(msg, msg + 4, len - 4);
            *out = msg;
            return (int) (len - 4);
        }
        free(msg);
    }
}

int cri_proto_recv(int sock, unsigned char **out)
{
    return sock == server.fd ? server_recv(out) : client_recv(out);
}

int cri_proto_send(int sock, const void *buf, size_t len)
{
    if (sock != server.fd) {
        if (send_frame(sock, ++client.id, buf, len, 1) < 0)
            return -1;
        return (int) len;
    }
    /* A reply to a peer that has gone is dropped, as REP does.  Never
       waited for: a peer has one request out at a time, so a reply finds
       room unless the peer sends without reading, and that one goes. */
    if (server.current >= 0
            && send_frame(server.current, server.current_id, buf, len, MSG_DONTWAIT) < 0) {
        for (size_t i = 0; i < server.npeers; ++i)
            if (server.peers[i].fd == server.current)
                drop_peer(i);
    }
    server.current = -1;
    return (int) len;
}

void cri_proto_close(int sock)
{
    if (sock != server.fd) {
        close(sock);
        if (sock == client.fd)
            client.fd = -1;
        return;
    }
    while (server.npeers)
        drop_peer(0);
    free(server.peers);
    server.peers = NULL;
    server.cap = 0;
    close(server.fd);
    unlink(server.path);
    server.fd = -1;
}
