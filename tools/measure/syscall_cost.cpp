#include <chrono>
#include <cstdio>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
int main() {
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    const int n = 1000000;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
        pollfd p{sv[0], POLLOUT, 0};
        poll(&p, 1, 0);
    }
    auto t1 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
        getppid();
    }
    auto t2 = std::chrono::steady_clock::now();
    std::printf("poll(): %.0f ns, getppid(): %.0f ns per call\n",
                std::chrono::duration<double, std::nano>(t1 - t0).count() / n,
                std::chrono::duration<double, std::nano>(t2 - t1).count() / n);
}
