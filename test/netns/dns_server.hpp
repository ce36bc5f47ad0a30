// The bench's scripted DNS server: answers queries for scripted names (exact or by suffix), each
// record type with its own addresses, TTL, delay, loss, response code and UDP truncation, over
// UDP and TCP on one address and port.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace happy_dial::netns {

/// The response codes a script can give (RFC 1035 §4.1.1 RCODE values).
enum class dns_rcode : std::uint8_t {
    noerror = 0,
    servfail = 2,
    nxdomain = 3,
    refused = 5,
};

/// How one record type of a name is answered. The first three fields keep their order: scenarios
/// write `{addresses, delay, lost}`.
struct dns_answer_script {
    std::vector<boost::asio::ip::address> addresses;  ///< empty = NODATA (NOERROR, no record)
    std::chrono::milliseconds delay{0};               ///< answer this long after the query
    bool lost = false;                                ///< never answer over UDP
    std::uint32_t ttl = 0;                            ///< of each answer record (0: no caching)
    /// Fraction in [0, 1] of this type's UDP queries never answered, deterministic: the k-th
    /// query (k = 1, 2, ...) is dropped when floor(k * rate) > floor((k - 1) * rate), counted in
    /// parts per million, so 0.1 drops exactly the 10th, 20th, ... query and 0.25 every 4th.
    double loss_rate = 0;
    dns_rcode rcode = dns_rcode::noerror;  ///< anything but noerror: no records
    /// Answer over UDP with TC set and no records (RFC 1035 §4.1.1); the client then asks over
    /// TCP, where the full answer comes.
    bool truncate_udp = false;
    /// Records of the script's own type given as RDATA (e.g. HTTPS, RFC 9460: see
    /// core::encode_service_record), answered for any type with rcode noerror.
    std::vector<std::vector<std::uint8_t>> rdata{};
};

enum class dns_transport { udp, tcp };

/// What the server did with one query.
enum class dns_query_outcome {
    answered,   ///< a response was sent (or scheduled, when delayed)
    dropped,    ///< lost on purpose: `lost` or `loss_rate`
    truncated,  ///< answered over UDP with TC set and no records
};

const char* to_string(dns_transport t) noexcept;
const char* to_string(dns_query_outcome o) noexcept;

/// A DNS server on a UDP socket and a TCP acceptor bound to the same endpoint, driven by the
/// caller's io_context (run by one thread). Names it does not know get NXDOMAIN at once; a known
/// name's record types without a script get NODATA at once (e.g. HTTPS, type 65).
///
/// Loss counters: one per (name, type) for exact names, one per (pattern, type) for names a
/// pattern matches (so a loss rate spreads over the pattern's many names). Loss models datagram
/// loss: it applies to UDP only; every TCP query is answered.
class dns_server {
  public:
    static constexpr std::uint16_t type_a = 1;
    static constexpr std::uint16_t type_aaaa = 28;
    static constexpr std::uint16_t type_https = 65;  ///< RFC 9460

    /// At most this many TCP connections at once; further ones are closed when accepted.
    static constexpr std::size_t max_tcp_connections = 64;

    struct query {
        std::chrono::steady_clock::time_point at;
        std::string name;
        std::uint16_t type = 0;
        dns_transport transport = dns_transport::udp;
        dns_query_outcome outcome = dns_query_outcome::answered;
    };

    /// Binds UDP and TCP to `where` (port 0: one ephemeral port, the UDP one, for both).
    dns_server(boost::asio::io_context& ctx, const boost::asio::ip::udp::endpoint& where);

    /// Scripts `name` (lower case, no trailing dot): A and AAAA; other types get NODATA. Replaces
    /// any earlier script of the name and restarts its loss counters. Thread-safe.
    void set(const std::string& name, dns_answer_script aaaa, dns_answer_script a);
    /// Scripts one more record type of `name` (e.g. type_https with records as `rdata`, an
    /// rcode or a delay); its addresses are written only for A and AAAA. Thread-safe.
    void set_type(const std::string& name, std::uint16_t type, dns_answer_script script);
    /// Scripts every name ending with `suffix` (e.g. ".many.hd.test") that has no exact script;
    /// the longest matching suffix wins. Thread-safe.
    void set_pattern(const std::string& suffix, dns_answer_script aaaa, dns_answer_script a);
    /// The loss rate of `type` for pattern-matched names whose script's loss_rate is 0.
    /// Thread-safe.
    void set_default_loss_rate(std::uint16_t type, double rate);
    /// Forgets every name, pattern, default loss rate, loss counter and the query log.
    /// Thread-safe.
    void reset();
    /// Every query received since the last reset(). Thread-safe.
    std::vector<query> queries() const;
    /// Where the server listens (the port chosen when constructed with port 0).
    boost::asio::ip::udp::endpoint local_endpoint() const;

  private:
    struct state;
    struct tcp_connection;
    std::shared_ptr<state> state_;
};

}  // namespace happy_dial::netns
