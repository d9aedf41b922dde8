/*
 * httpd: serves the files of a tar archive over HTTP/1.1, with the socket
 * API of the library OS (lwIP underneath).
 *
 *   tar -cf site.tar -C dir .
 *   nabla-run --disk-readonly site.tar --net tap0 httpd.nabla --ipv4=10.0.0.2/24 \
 *       [--port=80] [--idle=SECONDS] [--disk=NAME]
 *
 * GET and HEAD; Content-Length and a Content-Type from the extension;
 * index.html for a directory; percent-decoded paths; keep-alive for
 * HTTP/1.1 (unless "Connection: close") and HTTP/1.0 with
 * "Connection: keep-alive"; pipelined requests in order. 404 for a missing
 * path, 405 for another method, 400 for a malformed request, 414 for a
 * request line over 8 KiB, 431 for headers over 8 KiB (these three close
 * the connection). A connection is closed when a request takes longer than
 * --idle seconds (default 10) to arrive from its first byte, or when it is
 * idle that long between requests or makes no progress sending: slow or
 * vanished clients cost a slot for at most that long.
 *
 * One thread, one poll loop over non-blocking sockets. GET /.stats answers
 * with the guest's own counters (open sockets, connections, heap in use,
 * requests by status) and lwIP's stats line, so tests can check for leaks.
 *
 * Prints "httpd: serving N files on port P" when ready. Returns 2 for bad
 * arguments or a disk that is not a tar archive, 1 if the network fails.
 */
#include <malloc.h>
#include <nabla_net.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tar.h"

#define MAX_CONNS   512
#define IN_MAX      8192            /* request line and headers */
#define HEAD_MAX    512             /* response headers */
#define CHUNK       (64 * 1024)     /* file data read per blkread */

enum conn_state { FREE = 0, READING, WRITING };

struct conn {
    int fd;
    enum conn_state state;
    int keep_alive;
    uint64_t deadline;              /* monotonic ns */
    char *in;                       /* IN_MAX bytes: the request being read */
    size_t in_len;
    uint8_t *buf;                   /* HEAD_MAX + CHUNK: headers, then file data */
    size_t buf_len, buf_off;
    const struct tar_entry *file;   /* data still to read from the disk */
    uint64_t file_pos, file_left;
};

static struct tar_index site;
static struct conn conns[MAX_CONNS];
static uint64_t idle_ns = 10000000000ull;
static struct {
    uint64_t connections, requests, ok, not_found, bad, too_long, not_allowed, timeouts, refused;
} counts;

/* ---- Responses -------------------------------------------------------------- */

static const char *content_type(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        { "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
        { "txt", "text/plain; charset=utf-8" }, { "css", "text/css" },
        { "js", "text/javascript" }, { "json", "application/json" },
        { "xml", "application/xml" }, { "png", "image/png" }, { "jpg", "image/jpeg" },
        { "jpeg", "image/jpeg" }, { "gif", "image/gif" }, { "svg", "image/svg+xml" },
        { "ico", "image/x-icon" }, { "webp", "image/webp" }, { "pdf", "application/pdf" },
        { "wasm", "application/wasm" }, { "tar", "application/x-tar" },
        { "gz", "application/gzip" }, { "zip", "application/zip" },
    };
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (dot != NULL) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            const char *a = dot + 1, *b = types[i].ext;
            while (*a && *b && (*a | 0x20) == *b) {
                a++;
                b++;
            }
            if (*a == '\0' && *b == '\0')
                return types[i].type;
        }
    }
    return "application/octet-stream";
}

/* Starts a response with a body held in memory (at most CHUNK bytes). */
static void respond_text(struct conn *c, int status, const char *reason, const char *extra,
                         const char *body, size_t body_len, int head_only)
{
    int n = snprintf((char *)c->buf, HEAD_MAX,
                     "HTTP/1.1 %d %s\r\nServer: nabla-httpd\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\n%sConnection: %s\r\n\r\n",
                     status, reason, body_len, extra, c->keep_alive ? "keep-alive" : "close");
    size_t len = (size_t)n;
    if (!head_only) {
        memcpy(c->buf + len, body, body_len);
        len += body_len;
    }
    c->buf_len = len;
    c->buf_off = 0;
    c->file = NULL;
    c->file_left = 0;
}

static void respond_error(struct conn *c, int status, const char *reason, int head_only)
{
    char body[64];
    int n = snprintf(body, sizeof body, "%d %s\n", status, reason);
    respond_text(c, status, reason, status == 405 ? "Allow: GET, HEAD\r\n" : "", body, (size_t)n, head_only);
}

static int open_connections(void)
{
    int n = 0;
    for (int i = 0; i < MAX_CONNS; i++)
        n += conns[i].state != FREE;
    return n;
}

static void respond_stats(struct conn *c, int head_only)
{
    static char body[2048];
    struct mallinfo heap = mallinfo();  /* uordblks: bytes in use */
    int n = snprintf(body, sizeof body,
                     "sockets=%d connections=%d heap_used=%zu accepted=%llu requests=%llu ok=%llu "
                     "not_found=%llu bad=%llu too_long=%llu not_allowed=%llu timeouts=%llu refused=%llu\n",
                     nabla_net_open_sockets(), open_connections(), (size_t)heap.uordblks,
                     (unsigned long long)counts.connections, (unsigned long long)counts.requests,
                     (unsigned long long)counts.ok, (unsigned long long)counts.not_found,
                     (unsigned long long)counts.bad, (unsigned long long)counts.too_long,
                     (unsigned long long)counts.not_allowed, (unsigned long long)counts.timeouts,
                     (unsigned long long)counts.refused);
    n += nabla_net_format_stats(body + n, sizeof body - (size_t)n - 1);
    body[n++] = '\n';
    respond_text(c, 200, "OK", "", body, (size_t)n, head_only);
}

/* Reads the next chunk of the file being sent into buf (after `at` bytes
 * already there). 0, or -1 if the disk failed. */
static int read_chunk(struct conn *c, size_t at)
{
    uint64_t n = c->file_left < CHUNK ? c->file_left : CHUNK;
    uint64_t aligned = (n + 511) / 512 * 512;      /* within the archive's padding */
    if (nabla_blk_read(site.handle, c->file_pos, c->buf + at, aligned) != NABLA_OK)
        return -1;
    c->file_pos += n;
    c->file_left -= n;
    c->buf_len = at + n;
    c->buf_off = 0;
    return 0;
}

static void respond_file(struct conn *c, const struct tar_entry *e, const char *path, int head_only)
{
    int n = snprintf((char *)c->buf, HEAD_MAX,
                     "HTTP/1.1 200 OK\r\nServer: nabla-httpd\r\nContent-Type: %s\r\n"
                     "Content-Length: %llu\r\nConnection: %s\r\n\r\n",
                     content_type(path), (unsigned long long)e->size, c->keep_alive ? "keep-alive" : "close");
    c->buf_len = (size_t)n;
    c->buf_off = 0;
    c->file = NULL;
    c->file_left = 0;
    if (head_only || e->size == 0)
        return;
    c->file = e;
    c->file_pos = e->offset;
    c->file_left = e->size;
    if (read_chunk(c, (size_t)n) != 0) {
        c->keep_alive = 0;          /* the headers promised a body we cannot send */
        c->file_left = 0;
    }
}

/* ---- Requests ------------------------------------------------------------------ */

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Percent-decodes target (up to '?' or '#') and normalises it into path
 * (without the leading '/'): "." and empty segments dropped, ".." refused.
 * Returns the length, or -1 for a malformed target. */
static int decode_path(const char *target, size_t len, char *path, size_t size)
{
    if (len == 0 || target[0] != '/')
        return -1;
    size_t out = 0, seg = 0;        /* seg: where the current segment starts in path */
    for (size_t i = 1; i <= len; i++) {
        char ch;
        int end = i == len || target[i] == '?' || target[i] == '#';
        if (end || target[i] == '/') {
            size_t seglen = out - seg;
            if (seglen == 2 && path[seg] == '.' && path[seg + 1] == '.')
                return -1;
            if (seglen == 0 || (seglen == 1 && path[seg] == '.'))
                out = seg;          /* drop it */
            else if (!end)
                path[out++] = '/';
            if (end)
                break;
            seg = out;
            continue;
        }
        ch = target[i];
        if (ch == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hex_value(target[i + 1]), lo = hex_value(target[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = (char)(hi << 4 | lo);
            if (ch == '\0' || ch == '/')
                return -1;          /* an encoded NUL or slash names nothing in the archive */
            i += 2;
        } else if ((unsigned char)ch <= ' ' || ch == 0x7f) {
            return -1;
        }
        if (out + 1 >= size)
            return -1;
        path[out++] = ch;
    }
    if (out > 0 && path[out - 1] == '/')
        out--;
    path[out] = '\0';
    return (int)out;
}

static int is_token_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Case-insensitive: does [s, s+n) contain the lower-case word w? */
static int contains_word(const char *s, size_t n, const char *w)
{
    size_t wl = strlen(w);
    for (size_t i = 0; i + wl <= n; i++) {
        size_t j = 0;
        while (j < wl && (s[i + j] | 0x20) == w[j])
            j++;
        if (j == wl)
            return 1;
    }
    return 0;
}

/* Handles the request in c->in[0, len) (headers included, without the
 * final empty line), setting up the response. */
static void handle_request(struct conn *c, char *req, size_t len)
{
    counts.requests++;
    c->keep_alive = 0;
    char *line_end = memchr(req, '\n', len);
    size_t line_len = line_end ? (size_t)(line_end - req) : len;
    if (line_len > 0 && req[line_len - 1] == '\r')
        line_len--;
    /* METHOD SP TARGET SP HTTP/1.x */
    size_t m = 0;
    while (m < line_len && is_token_char(req[m]))
        m++;
    char *sp1 = m < line_len && req[m] == ' ' ? req + m : NULL;
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', line_len - m - 1) : NULL;
    char *version = sp2 ? sp2 + 1 : NULL;
    size_t version_len = version ? (size_t)(req + line_len - version) : 0;
    if (m == 0 || sp1 == NULL || sp2 == NULL || sp2 == sp1 + 1 || version_len != 8 ||
        memcmp(version, "HTTP/1.", 7) != 0 || (version[7] != '0' && version[7] != '1')) {
        counts.bad++;
        respond_error(c, 400, "Bad Request", 0);
        return;
    }
    int http11 = version[7] == '1';
    /* Headers: each "name: value"; Connection decides keep-alive; a body
     * (Content-Length or Transfer-Encoding) is not read, so the connection
     * closes after the response. */
    int keep = http11, has_body = 0;
    char *p = line_end ? line_end + 1 : req + len;
    while (p < req + len) {
        char *e = memchr(p, '\n', (size_t)(req + len - p));
        size_t n = e ? (size_t)(e - p) : (size_t)(req + len - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        char *colon = memchr(p, ':', n);
        if (colon == NULL || colon == p || p[0] == ' ' || p[0] == '\t') {
            counts.bad++;
            respond_error(c, 400, "Bad Request", 0);
            return;
        }
        size_t name_len = (size_t)(colon - p);
        char *value = colon + 1;
        size_t value_len = n - name_len - 1;
        if (name_len == 10 && contains_word(p, name_len, "connection")) {
            if (contains_word(value, value_len, "close"))
                keep = 0;
            else if (contains_word(value, value_len, "keep-alive"))
                keep = 1;
        } else if ((name_len == 14 && contains_word(p, name_len, "content-length")) ||
                   (name_len == 17 && contains_word(p, name_len, "transfer-encoding"))) {
            for (size_t i = 0; i < value_len; i++)
                if (value[i] != ' ' && value[i] != '0')
                    has_body = 1;
        }
        p = e ? e + 1 : req + len;
    }
    c->keep_alive = keep && !has_body;

    int head_only = m == 4 && memcmp(req, "HEAD", 4) == 0;
    if (!head_only && !(m == 3 && memcmp(req, "GET", 3) == 0)) {
        counts.not_allowed++;
        respond_error(c, 405, "Method Not Allowed", 0);
        return;
    }
    static char path[IN_MAX + 16];
    int plen = decode_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), path, sizeof path - 16);
    if (plen < 0) {
        counts.bad++;
        c->keep_alive = 0;
        respond_error(c, 400, "Bad Request", head_only);
        return;
    }
    if (plen == 6 && memcmp(path, ".stats", 6) == 0) {
        counts.ok++;
        respond_stats(c, head_only);
        return;
    }
    const struct tar_entry *e = tar_find(&site, path, (size_t)plen);
    if (e != NULL && e->is_dir) {
        memcpy(path + plen, plen ? "/index.html" : "index.html", plen ? 12 : 11);
        plen += plen ? 11 : 10;
        e = tar_find(&site, path, (size_t)plen);
    }
    if (e == NULL || e->is_dir) {
        counts.not_found++;
        respond_error(c, 404, "Not Found", head_only);
        return;
    }
    counts.ok++;
    respond_file(c, e, path, head_only);
}

/* ---- Connections ---------------------------------------------------------------- */

static void close_conn(struct conn *c)
{
    close(c->fd);
    free(c->buf);
    free(c->in);
    c->buf = NULL;
    c->in = NULL;
    c->state = FREE;
}

/* Looks for a whole request in c->in; if there is one, sets up its
 * response. Returns 1 if a response is ready, 0 if more input is needed,
 * -1 if the connection must close now. */
static int next_request(struct conn *c)
{
    size_t end = 0, skip = 0;
    for (size_t i = 0; i + 1 < c->in_len; i++) {
        if (c->in[i] == '\n' && c->in[i + 1] == '\n') {
            end = i;
            skip = i + 2;
            break;
        }
        if (c->in[i] == '\n' && c->in[i + 1] == '\r' && i + 2 < c->in_len && c->in[i + 2] == '\n') {
            end = i;
            skip = i + 3;
            break;
        }
    }
    if (skip == 0) {
        if (c->in_len < IN_MAX)
            return 0;
        /* Full without a complete request: the request line or the headers
         * are too long. Answer and close. */
        c->keep_alive = 0;
        counts.requests++;
        counts.too_long++;
        if (memchr(c->in, '\n', c->in_len) == NULL)
            respond_error(c, 414, "URI Too Long", 0);
        else
            respond_error(c, 431, "Request Header Fields Too Large", 0);
        c->in_len = 0;
        return 1;
    }
    /* Empty lines before a request are ignored (RFC 9112 2.2). */
    size_t start = 0;
    while (start < end && (c->in[start] == '\r' || c->in[start] == '\n'))
        start++;
    handle_request(c, c->in + start, end - start);
    memmove(c->in, c->in + skip, c->in_len - skip);
    c->in_len -= skip;
    return 1;
}

/* Sends what it can, at most one chunk of file data per call so that every
 * connection gets its turn. Returns 1 when the response is complete, 0 if
 * it must wait (the socket is full, or others go first), -1 if the
 * connection failed. */
static int pump(struct conn *c)
{
    for (int chunks = 0;; chunks++) {
        while (c->buf_off < c->buf_len) {
            ssize_t n = send(c->fd, c->buf + c->buf_off, c->buf_len - c->buf_off, 0);
            if (n < 0)
                return errno == EAGAIN ? 0 : -1;
            c->buf_off += (size_t)n;
            c->deadline = nabla_clock_monotonic() + idle_ns;
        }
        if (c->file_left == 0)
            return 1;
        if (chunks > 0)
            return 0;
        if (read_chunk(c, 0) != 0)
            return -1;
    }
}

/* Runs a connection as far as it can go without waiting. */
static void advance(struct conn *c)
{
    for (;;) {
        if (c->state == WRITING) {
            int r = pump(c);
            if (r < 0 || (r == 1 && !c->keep_alive)) {
                close_conn(c);
                return;
            }
            if (r == 0)
                return;
            c->state = READING;
            c->deadline = nabla_clock_monotonic() + idle_ns;
        }
        int r = next_request(c);
        if (r == 0)
            return;
        c->state = WRITING;
    }
}

static void read_input(struct conn *c)
{
    if (c->in_len == 0)
        c->deadline = nabla_clock_monotonic() + idle_ns;   /* a request starts */
    ssize_t n = recv(c->fd, c->in + c->in_len, IN_MAX - c->in_len, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
        close_conn(c);
        return;
    }
    if (n > 0)
        c->in_len += (size_t)n;
    advance(c);
}

static void accept_all(int listener)
{
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0)
            return;
        struct conn *c = NULL;
        for (int i = 0; i < MAX_CONNS && c == NULL; i++)
            if (conns[i].state == FREE)
                c = &conns[i];
        uint8_t *buf = c ? malloc(HEAD_MAX + CHUNK) : NULL;
        char *in = buf ? malloc(IN_MAX) : NULL;
        if (in == NULL) {
            free(buf);
            counts.refused++;
            close(fd);
            continue;
        }
        int one = 1;
        fcntl(fd, F_SETFL, O_NONBLOCK);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->state = READING;
        c->in = in;
        c->buf = buf;
        c->deadline = nabla_clock_monotonic() + idle_ns;
        counts.connections++;
    }
}

/* ---- Main -------------------------------------------------------------------------- */

static int usage(const char *arg)
{
    printf("httpd: bad argument '%s'\n"
           "usage: httpd --ipv4=[NAME:]ADDR/PREFIX [--gw=ADDR] [--port=P] [--idle=SECONDS] [--disk=NAME]\n", arg);
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t port = 80, idle = 10;
    const char *disk_name = NULL;
    if (nabla_net_args(&argc, argv) != 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--port=", 7) == 0) {
            if (nabla_parse_u64(argv[i] + 7, &port) != 0 || port == 0 || port > 65535)
                return usage(argv[i]);
        } else if (strncmp(argv[i], "--idle=", 7) == 0) {
            if (nabla_parse_u64(argv[i] + 7, &idle) != 0 || idle == 0 || idle > 3600)
                return usage(argv[i]);
        } else if (strncmp(argv[i], "--disk=", 7) == 0 && argv[i][7] != '\0') {
            disk_name = argv[i] + 7;
        } else {
            return usage(argv[i]);
        }
    }
    idle_ns = idle * 1000000000ull;
    int disk = nabla_device_find(disk_name ? disk_name : "disk", NABLA_DEVICE_BLOCK);
    if (disk < 0 && disk_name == NULL) {
        const struct nabla_boot_info *info = nabla_boot_info();
        for (uint32_t i = 0; i < info->device_count && i < NABLA_MAX_DEVICES && disk < 0; i++)
            if (info->devices[i].kind == NABLA_DEVICE_BLOCK)
                disk = (int)i;
    }
    if (disk < 0) {
        printf("httpd: no disk%s%s: attach the site with nabla-run --disk-readonly site.tar\n",
               disk_name ? " named " : "", disk_name ? disk_name : "");
        return 2;
    }
    if (tar_load(&site, disk) != 0)
        return 2;
    if (nabla_net_start() != 0)
        return 2;

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr = { INADDR_ANY } };
    if (listener < 0 || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(listener, (struct sockaddr *)&me, sizeof me) != 0 || listen(listener, 128) != 0 ||
        fcntl(listener, F_SETFL, O_NONBLOCK) != 0) {
        printf("httpd: cannot listen on port %llu: errno %d\n", (unsigned long long)port, errno);
        return 1;
    }
    size_t files = 0;
    for (size_t i = 0; i < site.count; i++)
        files += !site.entries[i].is_dir;
    printf("httpd: serving %zu files on port %llu\n", files, (unsigned long long)port);

    static struct pollfd fds[MAX_CONNS + 1];
    static int owner[MAX_CONNS + 1];
    for (;;) {
        uint64_t now = nabla_clock_monotonic(), next = now + 1000000000ull;
        nfds_t n = 0;
        fds[n].fd = listener;
        fds[n].events = POLLIN;
        owner[n++] = -1;
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &conns[i];
            if (c->state == FREE)
                continue;
            if (now >= c->deadline) {
                counts.timeouts++;
                close_conn(c);
                continue;
            }
            if (c->deadline < next)
                next = c->deadline;
            fds[n].fd = c->fd;
            fds[n].events = c->state == READING ? POLLIN : POLLOUT;
            owner[n++] = i;
        }
        int timeout_ms = (int)((next - now + 999999) / 1000000);
        int ready = poll(fds, n, timeout_ms);
        if (ready < 0) {
            printf("httpd: network failed: errno %d\n", errno);
            return 1;
        }
        for (nfds_t k = 0; k < n && ready > 0; k++) {
            if (fds[k].revents == 0)
                continue;
            ready--;
            if (owner[k] < 0) {
                accept_all(listener);
                continue;
            }
            struct conn *c = &conns[owner[k]];
            if (c->state == READING)
                read_input(c);
            else if (c->state == WRITING)
                advance(c);
        }
    }
}
