#include "netns/syn_queue.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace happy_dial::netns {
namespace {

namespace ip = boost::asio::ip;

constexpr std::size_t align4(std::size_t n) {
    return (n + 3) & ~std::size_t{3};
}

/// NLA_HDRLEN as a size_t (the macro is an int whose NLA_ALIGN mixes signedness).
constexpr std::size_t nla_hdrlen = align4(sizeof(nlattr));

/// NLMSG_NEXT without the macro's int/unsigned mixing: the message after `h`, with `len`
/// reduced by `h`'s aligned length (as the macro, `len` may go below 0 and end the loop).
/// NLMSG_OK(h, len) holds, so the step is at most `len` + 3 and fits an int.
nlmsghdr* nlmsg_next(nlmsghdr* h, int& len) {
    const std::size_t step = align4(h->nlmsg_len);
    len -= static_cast<int>(step);
    return reinterpret_cast<nlmsghdr*>(reinterpret_cast<unsigned char*>(h) + step);
}

/// Builds one nfnetlink message: nlmsghdr, nfgenmsg, then attributes.
class nl_message {
  public:
    nl_message(std::uint16_t type, std::uint16_t flags, std::uint16_t queue_num) {
        buffer_.resize(NLMSG_HDRLEN + align4(sizeof(nfgenmsg)));
        auto* h = reinterpret_cast<nlmsghdr*>(buffer_.data());
        h->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_QUEUE << 8) | type);
        h->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
        auto* g = reinterpret_cast<nfgenmsg*>(buffer_.data() + NLMSG_HDRLEN);
        g->nfgen_family = AF_UNSPEC;
        g->version = NFNETLINK_V0;
        g->res_id = htons(queue_num);
    }

    template <class T>
    void add(std::uint16_t type, const T& value) {
        const std::size_t at = buffer_.size();
        buffer_.resize(at + align4(nla_hdrlen + sizeof(T)));
        nlattr a{};
        a.nla_len = static_cast<std::uint16_t>(nla_hdrlen + sizeof(T));
        a.nla_type = type;
        std::memcpy(buffer_.data() + at, &a, sizeof(a));
        std::memcpy(buffer_.data() + at + nla_hdrlen, &value, sizeof(T));
    }

    void send(int fd) {
        auto* h = reinterpret_cast<nlmsghdr*>(buffer_.data());
        h->nlmsg_len = static_cast<std::uint32_t>(buffer_.size());
        sockaddr_nl kernel{};
        kernel.nl_family = AF_NETLINK;
        const auto n = ::sendto(fd,
                                buffer_.data(),
                                buffer_.size(),
                                0,
                                reinterpret_cast<const sockaddr*>(&kernel),
                                sizeof(kernel));
        if (n != static_cast<ssize_t>(buffer_.size())) {
            throw std::system_error(errno, std::generic_category(), "nfqueue: sendto");
        }
    }

  private:
    std::vector<unsigned char> buffer_;
};

/// Destination address and TCP source port of an IPv4 or IPv6 packet (no extension headers:
/// the bench's SYNs have none).
bool parse_packet(const unsigned char* p, std::size_t n, ip::address& dst, std::uint16_t& sport) {
    if (n < 1) {
        return false;
    }
    const unsigned version = p[0] >> 4;
    std::size_t l4 = 0;
    if (version == 4 && n >= 20) {
        ip::address_v4::bytes_type b;
        std::memcpy(b.data(), p + 16, 4);
        dst = ip::address_v4(b);
        l4 = static_cast<std::size_t>(p[0] & 0x0f) * 4;
    } else if (version == 6 && n >= 40) {
        ip::address_v6::bytes_type b;
        std::memcpy(b.data(), p + 24, 16);
        dst = ip::address_v6(b);
        l4 = 40;
    } else {
        return false;
    }
    sport = n >= l4 + 2 ? static_cast<std::uint16_t>((p[l4] << 8) | p[l4 + 1]) : 0;
    return true;
}

}  // namespace

syn_queue::syn_queue(std::uint16_t queue_num) : queue_num_(queue_num) {
    fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd_ < 0) {
        throw std::system_error(errno, std::generic_category(), "nfqueue: socket");
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
        const int e = errno;
        ::close(fd_);
        throw std::system_error(e, std::generic_category(), "nfqueue: bind");
    }
    const int rcvbuf = 1 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    try {
        configure(NFQNL_CFG_CMD_BIND, true);
    } catch (...) {
        ::close(fd_);
        throw;
    }
    thread_ = std::thread([this] { run(); });
}

syn_queue::~syn_queue() {
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
    ::close(fd_);  // unbinds the queue; packets still held are dropped
}

void syn_queue::set_delay(const ip::address& destination, std::chrono::microseconds delay) {
    std::lock_guard<std::mutex> lock(mutex_);
    delays_[destination] = delay;
}

void syn_queue::reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    delays_.clear();
    log_.clear();
    ++generation_;
}

void syn_queue::reset_log() {
    std::lock_guard<std::mutex> lock(mutex_);
    log_.clear();
    ++generation_;
}

std::vector<syn_queue::entry> syn_queue::log() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return log_;
}

void syn_queue::configure(std::uint8_t command, bool with_params) {
    nl_message m(NFQNL_MSG_CONFIG, NLM_F_ACK, queue_num_);
    nfqnl_msg_config_cmd cmd{};
    cmd.command = command;
    cmd.pf = htons(AF_UNSPEC);
    m.add(NFQA_CFG_CMD, cmd);
    if (with_params) {
        nfqnl_msg_config_params params{};
        params.copy_range = htonl(80);  // IPv6 header + TCP ports are enough
        params.copy_mode = NFQNL_COPY_PACKET;
        m.add(NFQA_CFG_PARAMS, params);
    }
    m.send(fd_);
    // Wait (bounded) for the kernel's acknowledgement.
    std::array<unsigned char, 4096> buf{};
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) {
        throw std::runtime_error("nfqueue: no answer to the config request");
    }
    const auto n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n < static_cast<ssize_t>(NLMSG_HDRLEN)) {
        throw std::system_error(errno, std::generic_category(), "nfqueue: recv ack");
    }
    const auto* h = reinterpret_cast<const nlmsghdr*>(buf.data());
    if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (e->error != 0) {
            throw std::system_error(-e->error, std::generic_category(), "nfqueue: config");
        }
    }
}

void syn_queue::send_verdict(std::uint32_t packet_id) {
    nl_message m(NFQNL_MSG_VERDICT, 0, queue_num_);
    nfqnl_msg_verdict_hdr v{};
    v.verdict = htonl(NF_ACCEPT);
    v.id = htonl(packet_id);
    m.add(NFQA_VERDICT_HDR, v);
    m.send(fd_);
}

void syn_queue::receive(std::vector<held>& pending) {
    std::array<unsigned char, 65536> buf{};
    // Bounded: at most 64 datagrams per call, each holding a bounded number of messages.
    for (int round = 0; round < 64; ++round) {
        const auto n = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n <= 0) {
            return;
        }
        const auto now = clock_type::now();
        auto len = static_cast<int>(n);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
             h = nlmsg_next(h, len)) {
            if ((h->nlmsg_type & 0xff) != NFQNL_MSG_PACKET ||
                (h->nlmsg_type >> 8) != NFNL_SUBSYS_QUEUE) {
                continue;
            }
            const auto* data = static_cast<const unsigned char*>(NLMSG_DATA(h));
            const std::size_t total = h->nlmsg_len - NLMSG_HDRLEN;
            std::size_t off = align4(sizeof(nfgenmsg));
            std::optional<std::uint32_t> id;
            ip::address dst;
            std::uint16_t sport = 0;
            bool parsed = false;
            while (off + nla_hdrlen <= total) {
                nlattr a{};
                std::memcpy(&a, data + off, sizeof(a));
                if (a.nla_len < nla_hdrlen || off + a.nla_len > total) {
                    break;
                }
                const unsigned char* value = data + off + nla_hdrlen;
                const std::size_t size = a.nla_len - nla_hdrlen;
                const auto type = a.nla_type & NLA_TYPE_MASK;
                if (type == NFQA_PACKET_HDR && size >= sizeof(nfqnl_msg_packet_hdr)) {
                    nfqnl_msg_packet_hdr ph{};
                    std::memcpy(&ph, value, sizeof(ph));
                    id = ntohl(ph.packet_id);
                } else if (type == NFQA_PAYLOAD) {
                    parsed = parse_packet(value, size, dst, sport);
                }
                off += align4(a.nla_len);
            }
            if (!id) {
                continue;
            }
            std::chrono::microseconds delay{0};
            std::size_t index = 0;
            std::uint64_t generation = 0;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (parsed) {
                    if (auto it = delays_.find(dst); it != delays_.end()) {
                        delay = it->second;
                    }
                }
                index = log_.size();
                generation = generation_;
                log_.push_back(entry{now, now + delay, dst, sport});
            }
            if (delay.count() == 0) {
                send_verdict(*id);
            } else {
                pending.push_back(held{now + delay, *id, index, generation});
            }
        }
    }
}

void syn_queue::run() {
    std::vector<held> pending;
    // Runs until the destructor sets stop_; each turn waits at most 20 ms.
    while (!stop_) {
        auto wait = std::chrono::milliseconds(20);
        const auto now = clock_type::now();
        for (const auto& h : pending) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(h.due - now);
            wait = std::clamp(left, std::chrono::milliseconds(0), wait);
        }
        pollfd p{fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(wait.count()));
        if (ready == 1) {
            receive(pending);
        }
        const auto t = clock_type::now();
        auto due = std::partition(
            pending.begin(), pending.end(), [&](const held& h) { return h.due > t; });
        for (auto it = due; it != pending.end(); ++it) {
            send_verdict(it->packet_id);
            std::lock_guard<std::mutex> lock(mutex_);
            if (it->generation == generation_ && it->log_index < log_.size()) {
                log_[it->log_index].released = clock_type::now();
            }
        }
        pending.erase(due, pending.end());
    }
}

}  // namespace happy_dial::netns
