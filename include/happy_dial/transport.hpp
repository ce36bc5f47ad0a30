// The seams between a dial and the network: lookups and connects. The real network
// (system_network) is the default implementation; the test kit (happy_dial/testing) is another.
#pragma once

#include <happy_dial/core/dial_engine.hpp>
#include <happy_dial/detail/attempt_completion.hpp>
#include <happy_dial/resolver.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/resolver_base.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <functional>
#include <memory>
#include <string>

namespace happy_dial {

/// One per-family host lookup (RFC 8305 §3: AAAA and A are separate, concurrent queries).
struct lookup_query {
    std::string host;                               ///< the name to resolve
    std::string service;                            ///< the service name or port number
    core::address_family family;                    ///< ipv6 = AAAA query, ipv4 = A query
    boost::asio::ip::resolver_base::flags flags{};  ///< getaddrinfo flags
    boost::asio::any_io_executor executor;          ///< the dial's I/O executor
    /// Which resolver system_network uses (automatic: the context's choice). Other transports
    /// may ignore it.
    resolver_backend resolver = resolver_backend::automatic;
    /// Emitted (terminal) when the dial no longer wants the answer. A resolver that can stop
    /// the lookup does, and calls `done` with asio::error::operation_aborted; one that cannot
    /// ignores it. Unconnected when nothing will be emitted.
    boost::asio::cancellation_slot cancellation{};
};

/// The completion of one connect: call it exactly once with the outcome (empty: connected),
/// from a thread running the socket's execution context. Move-only; calling a moved-from
/// completion does nothing. Its associated allocator is the dial's (the caller's handler's),
/// so passing it straight to an Asio operation keeps the dial's allocation policy.
using connect_completion = detail::attempt_completion<detail::attempt_step::connect>;

/// What a transport's async_connect() knows when it returns.
enum class connect_progress {
    pending,  ///< the outcome depends on the network: `done` runs when it arrives
    /// The outcome is already decided (on loopback the handshake completes inside connect())
    /// and `done` is queued on the socket's executor. The dial then holds back arming its
    /// attempt timer until that completion runs, which saves a timer system call and a
    /// scheduler pass on a path where the timer is almost never needed.
    settled,
};

/// Performs the lookups and connects of a dial. Supported extension point: dial_options::transport
/// selects one; null selects system_network, the real network.
class dial_transport {
  public:
    /// Receives one lookup's answer.
    using answer_handler = std::function<void(core::resolution_answer)>;

    virtual ~dial_transport() = default;

    /// Resolves one family. `done` must be called exactly once, from any thread, at any time
    /// (an answer that arrives after its dial ended is dropped; one that never arrives is
    /// abandoned when the dial ends).
    virtual void async_lookup(const lookup_query& query, answer_handler done) = 0;

    /// Connects the opened `socket` to `target`. The socket stays at its address until `done`
    /// ran. May not call `done` inside this function. Says whether the outcome is already
    /// decided (`settled`: `done` is queued) or still up to the network (`pending`); a
    /// transport that cannot tell says `pending`.
    virtual connect_progress async_connect(boost::asio::ip::tcp::socket& socket,
                                           const boost::asio::ip::tcp::endpoint& target,
                                           connect_completion done) = 0;

    /// The dial gave up on the attempt on `socket` and closes the socket right after this call
    /// (which aborts Asio operations on it): anything else pending must complete `done` soon,
    /// with boost::asio::error::operation_aborted, but not inside this call (the dial is
    /// running). The default does nothing.
    virtual void cancel_connect(boost::asio::ip::tcp::socket& socket);
};

/// The real network: lookups by the query's resolver backend (system: getaddrinfo on the
/// execution context's lookup threads; c-ares: on the I/O executor), TCP connects.
class system_network final : public dial_transport {
  public:
    /// The one instance; it holds no state.
    static const std::shared_ptr<system_network>& instance();

    /// Resolves one family with the query's resolver backend (docs/resolvers.md).
    void async_lookup(const lookup_query& query, answer_handler done) override;
    /// A non-blocking connect() (what `socket.async_connect(target, done)` does), which tells
    /// whether the outcome is already decided; when it is not, waits on the reactor as Asio
    /// does. Where connect() is not POSIX's, `socket.async_connect` and `pending`.
    connect_progress async_connect(boost::asio::ip::tcp::socket& socket,
                                   const boost::asio::ip::tcp::endpoint& target,
                                   connect_completion done) override;
};

}  // namespace happy_dial
