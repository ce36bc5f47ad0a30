// The seam between a dial and the network: lookups and connects. The real network is built in;
// the test kit (happy_dial/testing/mock_network.hpp) implements this to script endpoints.
#pragma once

#include <happy_dial/core/dial_engine.hpp>

#include <boost/asio/ip/resolver_base.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <functional>
#include <string>

namespace happy_dial {

/// One per-family host lookup (RFC 8305 §3: AAAA and A are separate, concurrent queries).
struct lookup_query {
    std::string host;                               ///< the name to resolve
    std::string service;                            ///< the service name or port number
    core::address_family family;                    ///< ipv6 = AAAA query, ipv4 = A query
    boost::asio::ip::resolver_base::flags flags{};  ///< getaddrinfo flags
};

/// Performs the lookups and connects of dials whose options name it.
class dial_transport {
  public:
    /// Receives one lookup's answer.
    using answer_handler = std::function<void(core::resolution_answer)>;
    /// Receives one connect's outcome (empty error_code: connected).
    using connect_handler = std::function<void(boost::system::error_code)>;

    virtual ~dial_transport() = default;

    /// Resolves one family. `done` must be called exactly once, from any thread, at any time
    /// (an answer that arrives after its dial ended is dropped).
    virtual void async_lookup(const lookup_query& query, answer_handler done) = 0;

    /// Connects the opened `socket` to `target`. `done` must be called exactly once, from a
    /// thread running the socket's execution context.
    virtual void async_connect(boost::asio::ip::tcp::socket& socket,
                               const boost::asio::ip::tcp::endpoint& target,
                               connect_handler done) = 0;

    /// The dial gave up on the attempt on `socket` (it will close the socket right after):
    /// complete its `done` soon, with boost::asio::error::operation_aborted.
    virtual void cancel_connect(boost::asio::ip::tcp::socket& socket) = 0;
};

}  // namespace happy_dial
