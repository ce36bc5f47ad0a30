#include "history/route_probe.hpp"

#include <boost/asio/ip/udp.hpp>

#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace happy_dial::detail {

// Plain syscalls, not an Asio socket: no io_context is at hand where routes are probed, and
// four syscalls is all it takes.
std::optional<boost::asio::ip::address> probe_source(const boost::asio::ip::address& destination) {
    const boost::asio::ip::udp::endpoint target(destination, 9);  // any port: nothing is sent
    const int fd = ::socket(target.protocol().family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::nullopt;
    }
    std::optional<boost::asio::ip::address> source;
    if (::connect(fd, target.data(), static_cast<socklen_t>(target.size())) == 0) {
        boost::asio::ip::udp::endpoint local;
        auto size = static_cast<socklen_t>(local.capacity());
        if (::getsockname(fd, local.data(), &size) == 0) {
            local.resize(size);
            source = local.address();
        }
    }
    ::close(fd);
    return source;
}

}  // namespace happy_dial::detail
