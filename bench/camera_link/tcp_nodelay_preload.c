/* lk_bench_tcp_nodelay.so: an LD_PRELOAD library for one variant of
 * lk-bench-camera-link's nonce-echo figure. It sets TCP_NODELAY on every TCP
 * socket the process connects, so libmosquitto clients that do not ask for it
 * (the net_camera plugin, lk-camera-agent) send without Nagle's algorithm:
 * what setting MOSQ_OPT_TCP_NODELAY in them would do. Benchmark use only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

int connect(int fd, const struct sockaddr *address, socklen_t length) {
  static connect_fn real;
  if (!real) *(void **)&real = dlsym(RTLD_NEXT, "connect");
  int type = 0;
  socklen_t size = sizeof type;
  if (address && (address->sa_family == AF_INET || address->sa_family == AF_INET6) &&
      getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) == 0 && type == SOCK_STREAM) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return real(fd, address, length);
}
