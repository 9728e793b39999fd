/* hello-floor: the least a server can do per keep-alive request, to show what the kernel and
 * the load generator allow on a machine. For every "\r\n\r\n" it reads it writes one fixed
 * "hello" reply, on a level-triggered epoll loop: no parsing, no timeouts, no output queue;
 * a read holding "Connection: close" closes the connection after its replies. It is a bench
 * reference, not an HTTP server; the harness compiles it at start.
 *
 * usage: hello-floor PORT BACKLOG PROCESSES   (127.0.0.1; PROCESSES share the port by
 * SO_REUSEPORT and die with the first one) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const char kReply[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
enum { kReplyLen = sizeof kReply - 1, kMaxBatch = 64 };

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* How far into "\r\n\r\n" each connection's input has matched, so a split head still counts. */
static unsigned char *matched;
static size_t matched_size;

static unsigned char *match_state(int fd) {
  if ((size_t)fd >= matched_size) {
    size_t size = matched_size ? matched_size : 1024;
    while (size <= (size_t)fd) size *= 2;
    unsigned char *grown = realloc(matched, size);
    if (!grown) die("realloc");
    memset(grown + matched_size, 0, size - matched_size);
    matched = grown;
    matched_size = size;
  }
  return &matched[fd];
}

static size_t count_heads(const char *p, size_t n, unsigned char *state) {
  static const char kEnd[] = "\r\n\r\n";
  size_t heads = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == kEnd[*state]) {
      if (++*state == 4) heads++, *state = 0;
    } else {
      *state = p[i] == '\r';
    }
  }
  return heads;
}

static int asks_close(const char *p, size_t n) {
  static const char kClose[] = "\nconnection: close";
  const size_t len = sizeof kClose - 1;
  for (size_t i = 0; i + len <= n; i++)
    if (p[i] == '\n' && strncasecmp(p + i, kClose, len) == 0) return 1;
  return 0;
}

static void close_conn(int ep, int fd) {
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
}

/* Answers what one read brings; a reply that does not fit the socket at once closes the
 * connection (a reading client such as wrk never sees that). */
static void serve(int ep, int fd) {
  static char in[16384], out[kMaxBatch * kReplyLen];
  ssize_t r = recv(fd, in, sizeof in, 0);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (r <= 0) return close_conn(ep, fd);
  size_t heads = count_heads(in, (size_t)r, match_state(fd));
  while (heads > 0) {
    size_t batch = heads < kMaxBatch ? heads : kMaxBatch, len = 0;
    for (size_t i = 0; i < batch; i++, len += kReplyLen) memcpy(out + len, kReply, kReplyLen);
    ssize_t w = send(fd, out, len, MSG_NOSIGNAL);
    if (w != (ssize_t)len) return close_conn(ep, fd);
    heads -= batch;
  }
  if (asks_close(in, (size_t)r)) close_conn(ep, fd);
}

static void accept_all(int ep, int ls) {
  for (;;) {
    int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      /* EMFILE and the like: the backlog holds the client; level-triggered epoll retries. */
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) perror("accept4");
      return;
    }
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) perror("TCP_NODELAY");
    *match_state(fd) = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
      perror("epoll_ctl");
      close(fd);
    }
  }
}

static int listen_on(int port, int backlog) {
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
  if (ls < 0) die("socket");
  if (setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) die("SO_REUSEADDR");
  if (setsockopt(ls, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) die("SO_REUSEPORT");
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(ls, backlog) < 0) die("listen");
  return ls;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PORT BACKLOG PROCESSES\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]), backlog = atoi(argv[2]), processes = atoi(argv[3]);
  if (port <= 0 || port > 65535 || backlog <= 0 || processes <= 0) {
    fprintf(stderr, "%s: bad PORT, BACKLOG or PROCESSES\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < processes; i++) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) die("PR_SET_PDEATHSIG");
      break;
    }
  }
  int ls = listen_on(port, backlog), ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, events[512];
  if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) < 0) die("epoll_ctl");
  for (;;) {
    int n = epoll_wait(ep, events, 512, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      if (events[i].data.fd == ls)
        accept_all(ep, ls);
      else
        serve(ep, events[i].data.fd);
    }
  }
}
