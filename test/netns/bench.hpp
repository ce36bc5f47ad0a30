// The scenario bench: a private network namespace holding only lo, test addresses on it, a TCP
// server on every address, per-address impairments, a scripted DNS server and kernel SYN counts.
#pragma once

#include "netns/dns_server.hpp"
#include "netns/syn_queue.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace happy_dial::netns {

/// What happens to a SYN sent to one address.
enum class impairment {
    none,         ///< the server answers (after `latency`)
    black_hole,   ///< the SYN is silently dropped (nftables `drop`)
    refused,      ///< answered with a RST (nftables `reject with tcp reset`): ECONNREFUSED
    unreachable,  ///< answered with ICMP host/address unreachable: EHOSTUNREACH
};

const char* to_string(impairment i) noexcept;

/// One test address and its impairment.
struct address_setup {
    boost::asio::ip::address address;
    impairment kind = impairment::none;
    /// Added latency: the SYN is held this long in the SYN queue before it goes on.
    std::chrono::milliseconds latency{0};
};

/// Shorthands for scenario tables.
address_setup healthy(std::string_view address);
address_setup slow(std::string_view address, std::chrono::milliseconds latency);
address_setup black_holed(std::string_view address);
address_setup refusing(std::string_view address);
address_setup unreachable(std::string_view address);

/// Runs a command (no shell) and returns its exit status; its stdout goes to `out` when given.
/// Throws when it cannot be started. Bounded: the bench only runs ip, nft and iptables.
int run_command(const std::vector<std::string>& argv,
                std::string* out = nullptr,
                const std::string& input = {});

/// Empty when this process runs inside the namespace that run-in-netns.sh created (named by
/// $HAPPY_DIAL_NETNS, with only lo), else why not. The bench never touches anything otherwise.
std::string private_namespace_problem();

/// One per process (each CTest test is its own process in its own namespace).
class bench {
  public:
    static constexpr unsigned short port = 7080;              ///< the TCP server's port
    static constexpr const char* dns_address = "127.0.0.53";  ///< the scripted DNS server
    static constexpr std::uint16_t queue_num = 7;             ///< NFQUEUE number for SYNs
    /// The SYN delay that turns an ICMP error on loopback into a hard error (netns-notes.md).
    static constexpr std::chrono::milliseconds unreachable_delay{2};

    /// The bench, set up on first use. Throws when not inside the private namespace.
    static bench& get();

    /// Puts `addresses` on lo (once), installs their impairments (replacing the previous
    /// layout), and zeroes the SYN counters, the SYN log and the DNS script.
    void configure(const std::vector<address_setup>& addresses);
    /// Rewrites the namespace's hosts file: localhost plus `name` -> each address, in order.
    void write_hosts(const std::string& name, const std::vector<boost::asio::ip::address>& addrs);
    /// Zeroes the SYN counters and the SYN log.
    void reset_syns();
    /// SYNs (retransmissions included) sent to each configured address since the last reset,
    /// read from the nftables counters.
    std::map<boost::asio::ip::address, std::uint64_t> syn_counts() const;

    dns_server& dns() { return *dns_; }
    syn_queue& queue() { return *queue_; }

    ~bench();
    bench(const bench&) = delete;
    bench& operator=(const bench&) = delete;

  private:
    bench();
    void accept(boost::asio::ip::tcp::acceptor& acceptor);

    std::string etc_dir_;  ///< /etc/netns/<ns>: the files ip netns exec mounted over /etc
    std::map<boost::asio::ip::address, std::string> counters_;  ///< address -> counter name
    std::vector<boost::asio::ip::address> on_lo_;
    std::unique_ptr<syn_queue> queue_;
    boost::asio::io_context server_ctx_;
    std::optional<boost::asio::ip::tcp::acceptor> acceptor_v4_, acceptor_v6_;
    std::unique_ptr<dns_server> dns_;
    std::thread server_thread_;
};

}  // namespace happy_dial::netns
