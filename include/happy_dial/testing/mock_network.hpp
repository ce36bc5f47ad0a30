// A test kit: scripted resolver answers and endpoint behaviours for unit-testing code that dials,
// with no network and no root. Dials run the real async_dial and engine against the script.
#pragma once

#include <happy_dial/dial_options.hpp>
#include <happy_dial/transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace happy_dial::testing {

using namespace std::chrono_literals;

/// How a scripted endpoint answers a connection attempt.
enum class behaviour {
    connects,     ///< accepts after the delay: the attempt gets a real, connected loopback socket
    refuses,      ///< connection_refused after the delay (a RST)
    unreachable,  ///< host_unreachable after the delay (an ICMP error)
    never,        ///< never answers (a black hole): only cancellation ends the attempt
};

/// One connection attempt the mock network saw.
struct connect_record {
    boost::asio::ip::tcp::endpoint target;     ///< the scripted address attempted
    std::chrono::steady_clock::time_point at;  ///< when the attempt reached the mock
    std::size_t issued_before_step = 0;        ///< steps handed over when it was issued
    std::optional<std::size_t> completed_at;   ///< the step that handed its outcome over, if any
};

/// What a step hands back to a dial.
enum class step_kind {
    lookup,   ///< the answer of a lookup
    connect,  ///< the outcome of a connect
};

/// One step: one completion the mock network is about to hand back to a dial.
struct step_info {
    std::size_t index = 0;               ///< steps handed over before this one (0, 1, 2, ...)
    step_kind kind = step_kind::lookup;  ///< what it hands back
    /// A connect the dial already cancelled (a stale report): the dial's outcome was decided
    /// before this step, so a fault injected here cannot change it.
    bool late = false;
};

/// One lookup the mock network saw.
struct lookup_record {
    std::string host;                          ///< the name looked up
    core::address_family family;               ///< AAAA (ipv6) or A (ipv4)
    std::chrono::steady_clock::time_point at;  ///< when the query reached the mock
};

/// Declare endpoints and resolver answers, then dial with `options()`:
/// @code
/// auto net = happy_dial::testing::mock_network::create(ctx.get_executor());
/// net->resolve("db.test", {"2001:db8::1", "192.0.2.1"});          // AAAA and A, at once
/// net->endpoint("2001:db8::1", 5432, behaviour::never);            // black-holed IPv6
/// net->endpoint("192.0.2.1", 5432, behaviour::connects, 5ms);      // working IPv4
/// happy_dial::async_dial(ctx, "db.test", "5432", net->options(), handler);
/// @endcode
/// Addresses are never contacted: a "connects" endpoint is served by a listener of the kit's
/// own on 127.0.0.1 (or ::1), so the socket handed back really is connected (its
/// remote_endpoint() is that listener). Endpoints not declared are unreachable at once; hosts
/// not declared fail with host_not_found. Thread-safe.
///
/// Fault injection (Beast's fail_count): a *step* is one completion the network hands back to
/// a dial, a lookup answer or a connect outcome, counted from 0. A test reruns a dial with a
/// fault at the n-th lookup, connect, setup-hook call or step for n = 0, 1, 2, ... until the
/// fault no longer fires(). Each knob counts from 0 and fires at most once.
class mock_network final : public dial_transport,
                           public std::enable_shared_from_this<mock_network> {
  public:
    /// Timers of the script run on `executor`.
    static std::shared_ptr<mock_network> create(boost::asio::any_io_executor executor);

    /// Scripts the answer to `host`'s query for `family`: `addresses` (none = NODATA) after
    /// `delay`, or `error` when set. The port comes from the dial's service, a number or a name
    /// of /etc/services (an unknown name fails the lookup with error::invalid_service). Throws
    /// boost::system::system_error here when an address does not parse.
    void answer(const std::string& host,
                core::address_family family,
                std::vector<std::string> addresses,
                std::chrono::milliseconds delay = 0ms,
                boost::system::error_code error = {});
    /// Scripts both families of `host` from one list, answered after the same delay.
    void resolve(const std::string& host,
                 const std::vector<std::string>& addresses,
                 std::chrono::milliseconds delay = 0ms);
    /// The query for `family` of `host` never gets an answer.
    void never_answer(const std::string& host, core::address_family family);

    /// Scripts what a connection attempt to `address`:`port` sees, after `delay`.
    void endpoint(const std::string& address,
                  unsigned short port,
                  behaviour how,
                  std::chrono::milliseconds delay = 0ms);

    /// `base` with this network as its transport, and a socket_setup hook that counts its calls
    /// (hooks(), fail_hook()) and then calls `base`'s own hook, if any.
    dial_options options(dial_options base = {});

    /// The `n`-th lookup answers `error` (no addresses) after its scripted delay, even one
    /// scripted with never_answer().
    void fail_lookup(std::size_t n, boost::system::error_code error);
    /// The `n`-th connect fails with `error` after 2 ms, whatever its script.
    void fail_connect(std::size_t n, boost::system::error_code error);
    /// The `n`-th call of the setup hook installed by options() sets `error` (without calling
    /// the base hook).
    void fail_hook(std::size_t n, boost::system::error_code error);
    /// From step `n` on the network goes silent: every completion is withheld (a connect's
    /// until the dial cancels it, then handed over as operation_aborted; a lookup's until
    /// release_withheld()). Late steps are not withheld. Makes a dial's deadline expire "at"
    /// step `n`.
    void freeze_at(std::size_t n);
    /// Calls `callback` (empty: none) before each step is handed over, without holding the
    /// network's lock: it may cancel the dial or stop its io_context.
    void on_step(std::function<void(const step_info&)> callback);

    /// Every connection attempt seen so far.
    std::vector<connect_record> connects() const;
    /// Every lookup seen so far.
    std::vector<lookup_record> lookups() const;
    /// Connects started and not yet handed back to their dial (pending or withheld).
    std::size_t pending_connects() const;
    /// Calls of the setup hook installed by options() so far.
    std::size_t hooks() const;
    /// Steps handed over (or withheld) so far.
    std::size_t steps() const;
    /// Whether a lookup, connect or hook fault fired, or the freeze withheld a completion.
    bool fired() const;
    /// Drops every withheld connect completion (breaking the dial <-> network cycle they form
    /// when a dial never cancels them) and hands the withheld lookup answers over (a dial that
    /// already ended drops them).
    void release_withheld();

    /// The kit's loopback listener that serves a "connects" attempt to `target`.
    boost::asio::ip::tcp::endpoint listener_for(const boost::asio::ip::tcp::endpoint& target) const;

    // dial_transport
    void async_lookup(const lookup_query& query, answer_handler done) override;
    connect_progress async_connect(boost::asio::ip::tcp::socket& socket,
                                   const boost::asio::ip::tcp::endpoint& target,
                                   connect_completion done) override;
    void cancel_connect(boost::asio::ip::tcp::socket& socket) override;

    /// Use create(): the network must be owned by a shared_ptr.
    explicit mock_network(boost::asio::any_io_executor executor);
    ~mock_network() override;

  private:
    struct scripted_answer {
        std::vector<std::string> addresses;
        std::chrono::milliseconds delay{};
        boost::system::error_code error;
        bool never = false;
    };
    struct scripted_endpoint {
        behaviour how = behaviour::unreachable;
        std::chrono::milliseconds delay{};
    };
    struct pending_connect {
        std::size_t index = 0;                           // in connects_
        std::weak_ptr<boost::asio::steady_timer> timer;  // owned by its wait handler only
        bool cancelled = false;                          // cancel_connect() was called
        connect_completion withheld;                     // frozen
    };
    struct fault {
        std::size_t at = 0;
        boost::system::error_code error;
    };

    step_info next_step(step_kind kind, bool late);
    bool frozen(const step_info& info) const;
    void hand_over_answer(answer_handler done, core::resolution_answer answer);
    void hand_over_connect(boost::asio::ip::tcp::socket& socket,
                           boost::system::error_code ec,
                           connect_completion done);
    void reach_listener(boost::asio::ip::tcp::socket& socket,
                        const boost::asio::ip::tcp::endpoint& target,
                        connect_completion done);

    boost::asio::any_io_executor executor_;
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, core::address_family>, scripted_answer> answers_;
    std::map<boost::asio::ip::tcp::endpoint, scripted_endpoint> endpoints_;
    std::map<const boost::asio::ip::tcp::socket*, pending_connect> pending_;
    std::vector<std::function<void()>> withheld_lookups_;
    std::vector<connect_record> connects_;
    std::vector<lookup_record> lookups_;
    std::optional<fault> fail_lookup_, fail_connect_, fail_hook_;
    std::optional<std::size_t> freeze_at_;
    std::function<void(const step_info&)> on_step_;
    std::size_t hooks_ = 0;
    std::size_t steps_ = 0;
    bool fired_ = false;
    std::optional<boost::asio::ip::tcp::acceptor> listener_v4_;
    std::optional<boost::asio::ip::tcp::acceptor> listener_v6_;
};

}  // namespace happy_dial::testing
