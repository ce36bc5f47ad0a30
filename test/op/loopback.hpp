// Loopback targets for operation tests: no root, no network beyond 127.0.0.1 and ::1.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <dirent.h>
#include <memory>
#include <string>

namespace happy_dial::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

inline const asio::ip::address loopback_v4 = asio::ip::make_address("127.0.0.1");
inline const asio::ip::address loopback_v6 = asio::ip::make_address("::1");

/// Whether this machine can bind ::1.
inline bool has_ipv6_loopback() {
    asio::io_context ctx;
    tcp::acceptor a(ctx);
    boost::system::error_code ec;
    a.open(tcp::v6(), ec);
    if (!ec) {
        a.bind({loopback_v6, 0}, ec);
    }
    return !ec;
}

/// A listener whose kernel completes handshakes (backlog as large as the system allows, 4096
/// here, so nobody needs to accept).
class accepting_listener {
  public:
    explicit accepting_listener(asio::ip::address address) : acceptor_(ctx_, {address, 0}) {
        acceptor_.listen(asio::socket_base::max_listen_connections);
    }
    tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  private:
    asio::io_context ctx_;
    tcp::acceptor acceptor_;
};

/// A black hole: a listener with a full accept queue silently drops new SYNs, so connects to
/// it hang until the OS gives up (~127 s).
class black_hole {
  public:
    explicit black_hole(asio::ip::address address) : acceptor_(ctx_, {address, 0}), filler_(ctx_) {
        acceptor_.listen(0);
        filler_.connect(acceptor_.local_endpoint());
    }
    tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  private:
    asio::io_context ctx_;
    tcp::acceptor acceptor_;
    tcp::socket filler_;
};

/// A port that refuses: bound but not listening, so SYNs get a RST (ECONNREFUSED at once).
class refusing_port {
  public:
    explicit refusing_port(asio::ip::address address) : acceptor_(ctx_) {
        const tcp::endpoint where(address, 0);
        acceptor_.open(where.protocol());
        acceptor_.bind(where);  // no listen(): the kernel answers SYNs with a RST
    }
    tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  private:
    asio::io_context ctx_;
    tcp::acceptor acceptor_;
};

/// The number of file descriptors this process holds.
inline int open_fd_count() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) {
            ++n;
        }
        ::closedir(d);
    }
    return n;
}

}  // namespace happy_dial::test
