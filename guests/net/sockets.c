/*
 * sockets.c: the BSD socket API on lwIP's raw API, in the guest's one
 * thread.
 *
 * A socket is an entry of a fixed table, and a kind of descriptor of the
 * library OS's one table (<nabla_fd.h>): read, write, close, fcntl and
 * poll come here through socket_ops, and poll runs the network loop while
 * nothing is ready. lwIP's callbacks only record what happened: received
 * pbufs are queued on the socket, accepted connections on the listener, an
 * error (the pcb is gone) in `error`. A call that must wait runs
 * nabla_net_wait, which reads frames and runs lwIP (and so the callbacks),
 * until what it waits for has happened, its timeout has passed, or, for a
 * non-blocking socket, at once with EAGAIN.
 *
 * TCP flow control follows the application: received data is acknowledged
 * to lwIP (tcp_recved, which opens the window) only when recv copies it
 * out, so a guest that does not read stops its peer.
 */
#include "net_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <nabla_fd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#define NL_MAX_SOCKETS  1024
#define NL_UDP_QUEUE    64          /* datagrams waiting per UDP socket */

struct nl_dgram {
    struct pbuf *p;
    uint32_t addr;                  /* network byte order */
    uint16_t port;                  /* host byte order */
};

struct nl_socket {
    uint8_t  used;
    uint8_t  type;                  /* SOCK_STREAM or SOCK_DGRAM */
    uint8_t  nonblock;
    uint8_t  listening;
    uint8_t  connecting;
    uint8_t  connected;
    uint8_t  eof;                   /* the peer sent FIN */
    uint8_t  shut_wr;
    uint8_t  send_blocked;          /* lwIP ran out of segments: not writable until an ACK */
    int      error;                 /* pending errno (the pcb is gone), or 0 */
    uint64_t rcvtimeo_ns;           /* 0: wait for ever */
    uint64_t sndtimeo_ns;
    union {
        struct tcp_pcb *tcp;
        struct udp_pcb *udp;
    } pcb;
    /* TCP: received data not yet read, a ring of the pbuf chains lwIP
     * delivered (each at most 64 KiB; a window holds more, and one chain
     * may not: pbuf lengths are 16 bits). */
    struct pbuf **rxq;
    int rxq_cap, rxq_head, rxq_len;
    size_t rx_bytes;
    /* Listener: accepted connections (socket indices) not yet accept()ed. */
    int *queue;
    int queue_cap, queue_head, queue_len;
    /* UDP: datagrams not yet read. */
    struct nl_dgram dgrams[NL_UDP_QUEUE];
    int dgram_head, dgram_len;
};

static struct nl_socket sockets[NL_MAX_SOCKETS];
static int open_sockets;

/* ---- Descriptors ------------------------------------------------------------ */

static const struct nabla_fd_ops socket_ops;

/* The socket behind `fd`; NULL with errno EBADF if there is no such
 * descriptor, ENOTSOCK if it is not a socket. */
static struct nl_socket *lookup(int fd)
{
    return nabla_fd_object(fd, &socket_ops, ENOTSOCK);
}

static int socket_close(void *obj);

/* A descriptor for `s`, or -1 with errno EMFILE (and `s` closed). */
static int install(struct nl_socket *s)
{
    int fd = nabla_fd_open(&socket_ops, s);
    if (fd < 0)
        socket_close(s);
    return fd;
}

static struct nl_socket *alloc_socket(int type)
{
    for (int i = 0; i < NL_MAX_SOCKETS; i++) {
        struct nl_socket *s = &sockets[i];
        if (!s->used) {
            memset(s, 0, sizeof *s);
            s->used = 1;
            s->type = (uint8_t)type;
            open_sockets++;
            return s;
        }
    }
    errno = EMFILE;
    return NULL;
}

static void release_socket(struct nl_socket *s)
{
    s->used = 0;
    open_sockets--;
}

int nabla_net_open_sockets(void) { return open_sockets; }

static int set_errno(int e)
{
    errno = e;
    return -1;
}

static int errno_of(err_t err)
{
    switch (err) {
    case ERR_OK:         return 0;
    case ERR_MEM:        return ENOMEM;
    case ERR_BUF:        return ENOBUFS;
    case ERR_TIMEOUT:    return ETIMEDOUT;
    case ERR_RTE:        return EHOSTUNREACH;
    case ERR_INPROGRESS: return EINPROGRESS;
    case ERR_VAL:        return EINVAL;
    case ERR_WOULDBLOCK: return EWOULDBLOCK;
    case ERR_USE:        return EADDRINUSE;
    case ERR_ALREADY:    return EALREADY;
    case ERR_ISCONN:     return EISCONN;
    case ERR_CONN:       return ENOTCONN;
    case ERR_IF:         return ENETDOWN;
    case ERR_ABRT:       return ECONNABORTED;
    case ERR_RST:        return ECONNRESET;
    case ERR_CLSD:       return ENOTCONN;
    case ERR_ARG:        return EINVAL;
    default:             return EIO;
    }
}

/* Waits for the network until `deadline` (UINT64_MAX: none). 0, or -1 with
 * errno EIO if a hypercall failed. */
static int wait_until(uint64_t deadline)
{
    if (nabla_net_wait(deadline) < 0)
        return set_errno(EIO);
    return 0;
}

static uint64_t deadline_after(uint64_t ns)
{
    return ns == 0 ? UINT64_MAX : nabla_clock_monotonic() + ns;
}

/* ---- Addresses ---------------------------------------------------------------- */

static int read_sockaddr(const struct sockaddr *addr, socklen_t len, ip_addr_t *ip, uint16_t *port)
{
    if (addr == NULL || len < sizeof(struct sockaddr_in))
        return set_errno(EINVAL);
    const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
    if (sin->sin_family != AF_INET)
        return set_errno(EAFNOSUPPORT);
    ip_addr_set_ip4_u32(ip, sin->sin_addr.s_addr);
    *port = ntohs(sin->sin_port);
    return 0;
}

static void write_sockaddr(struct sockaddr *addr, socklen_t *len, uint32_t ip_network_order, uint16_t port)
{
    if (addr == NULL || len == NULL)
        return;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = ip_network_order;
    size_t n = *len < sizeof sin ? *len : sizeof sin;
    memcpy(addr, &sin, n);
    *len = sizeof sin;
}

/* ---- lwIP callbacks (TCP) -------------------------------------------------------- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct nl_socket *s = arg;
    (void)pcb;
    if (p == NULL) {
        s->eof = 1;
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return err;
    }
    if (s->rxq_len == s->rxq_cap) {
        /* Grow the ring; without memory, lwIP keeps the data and offers
         * it again later. */
        int cap = s->rxq_cap ? s->rxq_cap * 2 : 16;
        struct pbuf **q = malloc((size_t)cap * sizeof *q);
        if (q == NULL)
            return ERR_MEM;
        for (int i = 0; i < s->rxq_len; i++)
            q[i] = s->rxq[(s->rxq_head + i) % s->rxq_cap];
        free(s->rxq);
        s->rxq = q;
        s->rxq_cap = cap;
        s->rxq_head = 0;
    }
    s->rxq[(s->rxq_head + s->rxq_len) % s->rxq_cap] = p;
    s->rxq_len++;
    s->rx_bytes += p->tot_len;
    return ERR_OK;
}

/* Frees the received data not yet read, and the ring. */
static void drop_received(struct nl_socket *s)
{
    for (int i = 0; i < s->rxq_len; i++)
        pbuf_free(s->rxq[(s->rxq_head + i) % s->rxq_cap]);
    free(s->rxq);
    s->rxq = NULL;
    s->rxq_cap = s->rxq_head = s->rxq_len = 0;
    s->rx_bytes = 0;
}

static void on_error(void *arg, err_t err)
{
    struct nl_socket *s = arg;
    s->pcb.tcp = NULL;              /* lwIP has freed it */
    s->connecting = 0;
    s->error = errno_of(err);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    struct nl_socket *s = arg;
    (void)pcb;
    (void)len;
    s->send_blocked = 0;
    return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct nl_socket *s = arg;
    (void)pcb;
    s->connecting = 0;
    if (err != ERR_OK)
        s->error = errno_of(err);
    else
        s->connected = 1;
    return ERR_OK;
}

static void attach_tcp(struct nl_socket *s, struct tcp_pcb *pcb)
{
    s->pcb.tcp = pcb;
    tcp_arg(pcb, s);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_error);
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
    struct nl_socket *listener = arg;
    if (err != ERR_OK || newpcb == NULL)
        return ERR_VAL;
    struct nl_socket *s = NULL;
    if (listener->queue_len < listener->queue_cap)
        s = alloc_socket(SOCK_STREAM);
    if (s == NULL) {
        /* Backlog or socket table full: refuse, as a full SYN queue would. */
        tcp_abort(newpcb);
        return ERR_ABRT;
    }
    nl_halfopen_accepted(newpcb);
    attach_tcp(s, newpcb);
    s->connected = 1;
    int slot = (listener->queue_head + listener->queue_len) % listener->queue_cap;
    listener->queue[slot] = (int)(s - sockets);
    listener->queue_len++;
    return ERR_OK;
}

/* ---- lwIP callback (UDP) ------------------------------------------------------------ */

static void on_datagram(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
    struct nl_socket *s = arg;
    (void)pcb;
    if (s->dgram_len >= NL_UDP_QUEUE) {
        pbuf_free(p);               /* a full receive buffer drops, as on Linux */
        return;
    }
    struct nl_dgram *d = &s->dgrams[(s->dgram_head + s->dgram_len) % NL_UDP_QUEUE];
    d->p = p;
    d->addr = ip4_addr_get_u32(ip_2_ip4(addr));
    d->port = port;
    s->dgram_len++;
}

/* ---- Creating, binding, listening, connecting ------------------------------------------ */

int socket(int domain, int type, int protocol)
{
    if (domain != AF_INET)
        return set_errno(EAFNOSUPPORT);
    if (type != SOCK_STREAM && type != SOCK_DGRAM)
        return set_errno(EPROTOTYPE);
    if (protocol != 0 && protocol != (type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP))
        return set_errno(EPROTONOSUPPORT);
    struct nl_socket *s = alloc_socket(type);
    if (s == NULL)
        return -1;
    if (type == SOCK_STREAM) {
        struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
        if (pcb == NULL) {
            release_socket(s);
            return set_errno(ENOBUFS);
        }
        attach_tcp(s, pcb);
    } else {
        s->pcb.udp = udp_new_ip_type(IPADDR_TYPE_V4);
        if (s->pcb.udp == NULL) {
            release_socket(s);
            return set_errno(ENOBUFS);
        }
        udp_recv(s->pcb.udp, on_datagram, s);
    }
    nabla_fd_set_waiter(wait_until);
    return install(s);
}

/* The socket's pcb is gone (reset, aborted): its error, else ENOTCONN. */
static int gone(struct nl_socket *s)
{
    return set_errno(s->error ? s->error : ENOTCONN);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct nl_socket *s = lookup(fd);
    ip_addr_t ip;
    uint16_t port;
    if (s == NULL || read_sockaddr(addr, len, &ip, &port) != 0)
        return -1;
    if (s->pcb.tcp == NULL)
        return gone(s);
    err_t err = s->type == SOCK_STREAM ? tcp_bind(s->pcb.tcp, &ip, port) : udp_bind(s->pcb.udp, &ip, port);
    return err == ERR_OK ? 0 : set_errno(errno_of(err));
}

int listen(int fd, int backlog)
{
    struct nl_socket *s = lookup(fd);
    if (s == NULL)
        return -1;
    if (s->type != SOCK_STREAM)
        return set_errno(EOPNOTSUPP);
    if (s->listening)
        return 0;
    if (s->pcb.tcp == NULL)
        return gone(s);
    if (backlog < 1)
        backlog = 1;
    if (backlog > 255)
        backlog = 255;
    s->queue = malloc((size_t)backlog * sizeof *s->queue);
    if (s->queue == NULL)
        return set_errno(ENOBUFS);
    err_t err;
    /* lwIP's backlog counts half-open connections and refuses new SYNs
     * when full; halfopen.c bounds them lower and drops the oldest
     * instead. backlog bounds the accept queue (on_accept). */
    struct tcp_pcb *lpcb = tcp_listen_with_backlog_and_err(s->pcb.tcp, TCP_DEFAULT_LISTEN_BACKLOG, &err);
    if (lpcb == NULL) {
        free(s->queue);
        s->queue = NULL;
        return set_errno(errno_of(err));
    }
    s->pcb.tcp = lpcb;              /* tcp_listen freed the original pcb */
    s->listening = 1;
    s->queue_cap = backlog;
    nl_halfopen_listen(lpcb);
    tcp_arg(lpcb, s);
    tcp_accept(lpcb, on_accept);
    return 0;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    struct nl_socket *s = lookup(fd);
    if (s == NULL)
        return -1;
    if (!s->listening)
        return set_errno(EINVAL);
    uint64_t deadline = deadline_after(s->rcvtimeo_ns);
    while (s->queue_len == 0) {
        if (s->pcb.tcp == NULL)
            return gone(s);
        if (s->nonblock || nabla_clock_monotonic() >= deadline)
            return set_errno(EAGAIN);
        if (wait_until(deadline) != 0)
            return -1;
    }
    struct nl_socket *c = &sockets[s->queue[s->queue_head]];
    s->queue_head = (s->queue_head + 1) % s->queue_cap;
    s->queue_len--;
    /* Tell lwIP the connection left the backlog. */
    if (s->pcb.tcp != NULL && c->pcb.tcp != NULL)
        tcp_backlog_accepted(c->pcb.tcp);
    if (c->pcb.tcp != NULL)
        write_sockaddr(addr, len, ip4_addr_get_u32(ip_2_ip4(&c->pcb.tcp->remote_ip)), c->pcb.tcp->remote_port);
    else
        write_sockaddr(addr, len, 0, 0);
    return install(c);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct nl_socket *s = lookup(fd);
    ip_addr_t ip;
    uint16_t port;
    if (s == NULL || read_sockaddr(addr, len, &ip, &port) != 0)
        return -1;
    if (s->type == SOCK_DGRAM) {
        err_t err = udp_connect(s->pcb.udp, &ip, port);
        return err == ERR_OK ? 0 : set_errno(errno_of(err));
    }
    if (s->listening)
        return set_errno(EINVAL);
    if (s->connected)
        return set_errno(EISCONN);
    if (!s->connecting) {
        if (s->pcb.tcp == NULL)
            return gone(s);
        err_t err = tcp_connect(s->pcb.tcp, &ip, port, on_connected);
        if (err != ERR_OK)
            return set_errno(errno_of(err));
        s->connecting = 1;
    }
    if (s->nonblock && s->connecting)
        return set_errno(EINPROGRESS);
    uint64_t deadline = deadline_after(s->sndtimeo_ns);
    while (s->connecting) {
        if (nabla_clock_monotonic() >= deadline)
            return set_errno(ETIMEDOUT);
        if (wait_until(deadline) != 0)
            return -1;
    }
    if (!s->connected)
        return set_errno(s->error == ECONNRESET ? ECONNREFUSED : (s->error ? s->error : ECONNREFUSED));
    return 0;
}

/* ---- Receiving ------------------------------------------------------------------------ */

static ssize_t tcp_receive(struct nl_socket *s, void *buf, size_t len, int flags)
{
    uint64_t deadline = deadline_after(s->rcvtimeo_ns);
    while (s->rx_bytes == 0) {
        if (s->eof)
            return 0;
        if (s->pcb.tcp == NULL)
            return s->error ? set_errno(s->error) : 0;
        if (s->listening || (!s->connected && !s->connecting))
            return set_errno(ENOTCONN);
        if (s->nonblock || (flags & MSG_DONTWAIT) || nabla_clock_monotonic() >= deadline)
            return set_errno(EAGAIN);
        if (wait_until(deadline) != 0)
            return -1;
    }
    size_t copied = 0;
    for (int i = 0; copied < len && i < s->rxq_len; i++) {
        struct pbuf *p = s->rxq[(s->rxq_head + i) % s->rxq_cap];
        size_t n = len - copied < p->tot_len ? len - copied : p->tot_len;
        pbuf_copy_partial(p, (uint8_t *)buf + copied, (u16_t)n, 0);
        copied += n;
    }
    if (flags & MSG_PEEK)
        return (ssize_t)copied;
    size_t left = copied;
    while (left > 0) {
        struct pbuf **head = &s->rxq[s->rxq_head];
        u16_t n = (u16_t)(left < (*head)->tot_len ? left : (*head)->tot_len);
        *head = pbuf_free_header(*head, n);
        if (*head == NULL) {
            s->rxq_head = (s->rxq_head + 1) % s->rxq_cap;
            s->rxq_len--;
        }
        if (s->pcb.tcp != NULL)
            tcp_recved(s->pcb.tcp, n);      /* opens the window */
        left -= n;
    }
    s->rx_bytes -= copied;
    return (ssize_t)copied;
}

static ssize_t dgram_receive(struct nl_socket *s, void *buf, size_t len, int flags,
                           struct sockaddr *from, socklen_t *fromlen)
{
    uint64_t deadline = deadline_after(s->rcvtimeo_ns);
    while (s->dgram_len == 0) {
        if (s->nonblock || (flags & MSG_DONTWAIT) || nabla_clock_monotonic() >= deadline)
            return set_errno(EAGAIN);
        if (wait_until(deadline) != 0)
            return -1;
    }
    struct nl_dgram *d = &s->dgrams[s->dgram_head];
    size_t n = len < d->p->tot_len ? len : d->p->tot_len;   /* the rest is lost, as on Linux */
    pbuf_copy_partial(d->p, buf, (u16_t)n, 0);
    write_sockaddr(from, fromlen, d->addr, d->port);
    if (!(flags & MSG_PEEK)) {
        pbuf_free(d->p);
        s->dgram_head = (s->dgram_head + 1) % NL_UDP_QUEUE;
        s->dgram_len--;
    }
    return (ssize_t)n;
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
    struct nl_socket *s = lookup(fd);
    if (s == NULL)
        return -1;
    if (s->type == SOCK_DGRAM)
        return dgram_receive(s, buf, len, flags, from, fromlen);
    ssize_t n = tcp_receive(s, buf, len, flags);
    if (n >= 0 && s->pcb.tcp != NULL)
        write_sockaddr(from, fromlen, ip4_addr_get_u32(ip_2_ip4(&s->pcb.tcp->remote_ip)), s->pcb.tcp->remote_port);
    return n;
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    return recvfrom(fd, buf, len, flags, NULL, NULL);
}

static ssize_t socket_read(void *obj, void *buf, size_t len)
{
    struct nl_socket *s = obj;
    return s->type == SOCK_STREAM ? tcp_receive(s, buf, len, 0) : dgram_receive(s, buf, len, 0, NULL, NULL);
}

/* ---- Sending ---------------------------------------------------------------------------- */

static ssize_t tcp_send(struct nl_socket *s, const void *buf, size_t len, int flags)
{
    if (s->shut_wr)
        return set_errno(EPIPE);
    if (s->listening || (!s->connected && s->pcb.tcp != NULL))
        return set_errno(ENOTCONN);
    size_t sent = 0;
    uint64_t deadline = deadline_after(s->sndtimeo_ns);
    while (sent < len) {
        struct tcp_pcb *pcb = s->pcb.tcp;
        if (pcb == NULL) {
            if (sent > 0)
                break;
            return set_errno(s->error ? (s->error == ECONNRESET ? ECONNRESET : EPIPE) : EPIPE);
        }
        size_t room = tcp_sndbuf(pcb);
        if (room > 0 && tcp_sndqueuelen(pcb) < TCP_SND_QUEUELEN - 2) {
            size_t n = len - sent;
            if (n > room)
                n = room;
            if (n > 0xffff)
                n = 0xffff;
            u8_t wflags = TCP_WRITE_FLAG_COPY | (sent + n < len ? TCP_WRITE_FLAG_MORE : 0);
            err_t err = tcp_write(pcb, (const uint8_t *)buf + sent, (u16_t)n, wflags);
            if (err == ERR_OK) {
                sent += n;
                continue;
            }
            if (err != ERR_MEM)
                return sent > 0 ? (ssize_t)sent : set_errno(errno_of(err));
            s->send_blocked = 1;    /* out of segments (all connections share them) */
        }
        /* The send buffer is full: push what is queued and wait for ACKs. */
        tcp_output(pcb);
        if (s->nonblock || (flags & MSG_DONTWAIT) || nabla_clock_monotonic() >= deadline)
            break;
        if (wait_until(deadline) != 0)
            return sent > 0 ? (ssize_t)sent : -1;
    }
    if (s->pcb.tcp != NULL)
        tcp_output(s->pcb.tcp);
    if (sent == 0 && len > 0)
        return set_errno(EAGAIN);
    return (ssize_t)sent;
}

static ssize_t dgram_send(struct nl_socket *s, const void *buf, size_t len, const struct sockaddr *to, socklen_t tolen)
{
    if (len > NABLA_NET_MTU - 20 - 8)
        return set_errno(EMSGSIZE);         /* no IP fragmentation: one frame */
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (p == NULL)
        return set_errno(ENOBUFS);
    pbuf_take(p, buf, (u16_t)len);
    err_t err;
    if (to != NULL) {
        ip_addr_t ip;
        uint16_t port;
        if (read_sockaddr(to, tolen, &ip, &port) != 0) {
            pbuf_free(p);
            return -1;
        }
        err = udp_sendto(s->pcb.udp, p, &ip, port);
    } else if (s->pcb.udp->flags & UDP_FLAGS_CONNECTED) {
        err = udp_send(s->pcb.udp, p);
    } else {
        pbuf_free(p);
        return set_errno(EDESTADDRREQ);
    }
    pbuf_free(p);
    if (err != ERR_OK)
        return set_errno(err == ERR_VAL ? EMSGSIZE : errno_of(err));
    return (ssize_t)len;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
    struct nl_socket *s = lookup(fd);
    if (s == NULL)
        return -1;
    if (s->type == SOCK_DGRAM)
        return dgram_send(s, buf, len, to, tolen);
    return tcp_send(s, buf, len, flags);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    return sendto(fd, buf, len, flags, NULL, 0);
}

static ssize_t socket_write(void *obj, const void *buf, size_t len)
{
    struct nl_socket *s = obj;
    return s->type == SOCK_STREAM ? tcp_send(s, buf, len, 0) : dgram_send(s, buf, len, NULL, 0);
}

/* ---- Closing ------------------------------------------------------------------------------ */

int shutdown(int fd, int how)
{
    struct nl_socket *s = lookup(fd);
    if (s == NULL)
        return -1;
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return set_errno(EINVAL);
    if (s->type != SOCK_STREAM)
        return set_errno(EOPNOTSUPP);
    if (s->pcb.tcp == NULL || !s->connected)
        return set_errno(ENOTCONN);
    int rd = how != SHUT_WR, wr = how != SHUT_RD;
    if (wr && s->shut_wr)
        wr = 0;
    if (rd)
        drop_received(s);
    if (!rd && !wr)
        return 0;
    struct tcp_pcb *pcb = s->pcb.tcp;
    if (rd && wr) {
        /* tcp_shutdown(1, 1) closes the pcb, which lwIP then finishes in
         * the background: it must not call back into this socket, whose
         * slot may be reused. */
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_sent(pcb, NULL);
        tcp_err(pcb, NULL);
    }
    err_t err = tcp_shutdown(pcb, rd, wr);
    if (err != ERR_OK) {
        if (rd && wr)
            attach_tcp(s, pcb);     /* still ours */
        return set_errno(errno_of(err));
    }
    if (wr)
        s->shut_wr = 1;
    if (rd && wr) {
        s->pcb.tcp = NULL;
        s->eof = 1;                 /* reads now return 0 */
    }
    return 0;
}

static void close_tcp(struct nl_socket *s);

static int socket_close(void *obj)
{
    struct nl_socket *s = obj;
    if (s->type == SOCK_DGRAM) {
        udp_remove(s->pcb.udp);
        while (s->dgram_len > 0) {
            pbuf_free(s->dgrams[s->dgram_head].p);
            s->dgram_head = (s->dgram_head + 1) % NL_UDP_QUEUE;
            s->dgram_len--;
        }
    } else {
        close_tcp(s);
    }
    release_socket(s);
    return 0;
}

static void close_tcp(struct nl_socket *s)
{
    if (s->listening) {
        /* Connections accepted by lwIP but never by the guest are reset. */
        while (s->queue_len > 0) {
            struct nl_socket *c = &sockets[s->queue[s->queue_head]];
            s->queue_head = (s->queue_head + 1) % s->queue_cap;
            s->queue_len--;
            if (c->pcb.tcp != NULL) {
                tcp_arg(c->pcb.tcp, NULL);
                tcp_err(c->pcb.tcp, NULL);
                tcp_abort(c->pcb.tcp);
            }
            drop_received(c);
            release_socket(c);
        }
        free(s->queue);
        s->queue = NULL;
    }
    drop_received(s);
    struct tcp_pcb *pcb = s->pcb.tcp;
    if (pcb == NULL)
        return;
    /* From now on lwIP owns the pcb: later data is dropped by its default
     * handler and the connection closes in the background. */
    tcp_arg(pcb, NULL);
    if (s->listening) {
        tcp_accept(pcb, NULL);
    } else {
        tcp_recv(pcb, NULL);
        tcp_sent(pcb, NULL);
        tcp_err(pcb, NULL);
    }
    if (tcp_close(pcb) != ERR_OK)
        tcp_abort(pcb);             /* out of memory for the FIN: reset */
    s->pcb.tcp = NULL;
}

/* ---- Options ---------------------------------------------------------------------------------- */

static uint64_t timeval_ns(const struct timeval *tv)
{
    if (tv->tv_sec < 0 || tv->tv_usec < 0)
        return 0;
    return (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
    struct nl_socket *s = lookup(fd);
    if (s == NULL)
        return -1;
    if (value == NULL)
        return set_errno(EFAULT);
    if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
        if (len < sizeof(struct timeval))
            return set_errno(EINVAL);
        uint64_t ns = timeval_ns(value);
        if (name == SO_RCVTIMEO)
            s->rcvtimeo_ns = ns;
        else
            s->sndtimeo_ns = ns;
        return 0;
    }
    if (len < sizeof(int))
        return set_errno(EINVAL);
    int on = *(const int *)value != 0;
    if (level == SOL_SOCKET && (name == SO_REUSEADDR || name == SO_BROADCAST)) {
        u8_t option = name == SO_REUSEADDR ? SOF_REUSEADDR : SOF_BROADCAST;
        if (s->type == SOCK_DGRAM) {
            if (on)
                ip_set_option(s->pcb.udp, option);
            else
                ip_reset_option(s->pcb.udp, option);
            return 0;
        }
        if (s->pcb.tcp == NULL)
            return gone(s);
        if (on)
            ip_set_option(s->pcb.tcp, option);
        else
            ip_reset_option(s->pcb.tcp, option);
        return 0;
    }
    if (level == SOL_SOCKET && (name == SO_KEEPALIVE || name == SO_SNDBUF || name == SO_RCVBUF))
        return 0;                   /* accepted, without effect (docs/network-stack.md) */
    if (level == IPPROTO_TCP && name == TCP_NODELAY && s->type == SOCK_STREAM) {
        if (s->pcb.tcp == NULL)
            return gone(s);
        if (on)
            tcp_nagle_disable(s->pcb.tcp);
        else
            tcp_nagle_enable(s->pcb.tcp);
        return 0;
    }
    return set_errno(ENOPROTOOPT);
}

int getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
    struct nl_socket *s = lookup(fd);
    if (s == NULL)
        return -1;
    if (value == NULL || len == NULL || *len < sizeof(int))
        return set_errno(EINVAL);
    int v;
    if (level == SOL_SOCKET && name == SO_ERROR) {
        v = s->error;
        s->error = 0;
    } else if (level == SOL_SOCKET && name == SO_TYPE) {
        v = s->type;
    } else if (level == IPPROTO_TCP && name == TCP_NODELAY && s->type == SOCK_STREAM && s->pcb.tcp != NULL) {
        v = tcp_nagle_disabled(s->pcb.tcp) ? 1 : 0;
    } else {
        return set_errno(ENOPROTOOPT);
    }
    *(int *)value = v;
    *len = sizeof(int);
    return 0;
}

static int socket_getfl(void *obj)
{
    struct nl_socket *s = obj;
    return O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
}

static int socket_setfl(void *obj, int flags)
{
    struct nl_socket *s = obj;
    s->nonblock = (flags & O_NONBLOCK) != 0;
    return 0;
}

static int socket_fstat(void *obj, struct stat *st)
{
    (void)obj;
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFSOCK | 0777;
    st->st_blksize = 4096;
    return 0;
}

static int local_or_peer(int fd, struct sockaddr *addr, socklen_t *len, int peer)
{
    struct nl_socket *s = lookup(fd);
    if (s == NULL)
        return -1;
    if (addr == NULL || len == NULL)
        return set_errno(EFAULT);
    if (s->type == SOCK_STREAM) {
        struct tcp_pcb *pcb = s->pcb.tcp;
        if (pcb == NULL)
            return gone(s);
        if (peer && !s->connected)
            return set_errno(ENOTCONN);
        if (peer)
            write_sockaddr(addr, len, ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)), pcb->remote_port);
        else
            write_sockaddr(addr, len, ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip)), pcb->local_port);
    } else {
        struct udp_pcb *pcb = s->pcb.udp;
        if (peer && !(pcb->flags & UDP_FLAGS_CONNECTED))
            return set_errno(ENOTCONN);
        if (peer)
            write_sockaddr(addr, len, ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)), pcb->remote_port);
        else
            write_sockaddr(addr, len, ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip)), pcb->local_port);
    }
    return 0;
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len) { return local_or_peer(fd, addr, len, 0); }
int getpeername(int fd, struct sockaddr *addr, socklen_t *len) { return local_or_peer(fd, addr, len, 1); }

/* ---- poll and the descriptor operations ---------------------------------------------------------------------------------------- */

static short ready_events(const struct nl_socket *s)
{
    short r = 0;
    if (s->type == SOCK_DGRAM) {
        if (s->dgram_len > 0)
            r |= POLLIN | POLLRDNORM;
        r |= POLLOUT | POLLWRNORM;
        return r;
    }
    if (s->listening) {
        if (s->queue_len > 0)
            r |= POLLIN | POLLRDNORM;
        return r;
    }
    if (s->rx_bytes > 0 || s->eof)
        r |= POLLIN | POLLRDNORM;
    if (s->pcb.tcp == NULL) {
        /* Reset, aborted or refused: readable (recv reports it) and hung up. */
        r |= POLLIN | POLLHUP | (s->error ? POLLERR : 0);
        return r;
    }
    /* Blocked on lwIP's segments: wait for one of ours to be ACKed, unless
     * none is in flight (then nothing would wake us: try again). */
    int blocked = s->send_blocked && (s->pcb.tcp->unacked != NULL || s->pcb.tcp->unsent != NULL);
    if (s->connected && !s->shut_wr && !blocked && tcp_sndbuf(s->pcb.tcp) > 0 &&
        tcp_sndqueuelen(s->pcb.tcp) < TCP_SND_QUEUELEN - 2)
        r |= POLLOUT | POLLWRNORM;
    if (s->eof && s->shut_wr)
        r |= POLLHUP;
    return r;
}

static short socket_poll(void *obj)
{
    return ready_events(obj);
}

static const struct nabla_fd_ops socket_ops = {
    .read = socket_read,
    .write = socket_write,
    .fstat = socket_fstat,
    .poll = socket_poll,
    .getfl = socket_getfl,
    .setfl = socket_setfl,
    .close = socket_close,
};

/* ---- Address text ------------------------------------------------------------------------------------ */

int inet_aton(const char *text, struct in_addr *addr)
{
    uint32_t ip;
    if (nabla_net_parse_ipv4(text, &ip) != 0)
        return 0;
    addr->s_addr = htonl(ip);
    return 1;
}

in_addr_t inet_addr(const char *text)
{
    struct in_addr a;
    return inet_aton(text, &a) ? a.s_addr : INADDR_NONE;
}

const char *inet_ntop(int af, const void *addr, char *dst, socklen_t size)
{
    if (af != AF_INET) {
        errno = EAFNOSUPPORT;
        return NULL;
    }
    uint32_t ip = ntohl(((const struct in_addr *)addr)->s_addr);
    char text[INET_ADDRSTRLEN];
    int n = snprintf(text, sizeof text, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
    if (n < 0 || (socklen_t)n >= size) {
        errno = ENOSPC;
        return NULL;
    }
    memcpy(dst, text, (size_t)n + 1);
    return dst;
}

char *inet_ntoa(struct in_addr addr)
{
    static char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr, text, sizeof text);
    return text;
}

int inet_pton(int af, const char *text, void *addr)
{
    if (af != AF_INET) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    return inet_aton(text, addr);
}
