// The threads that run blocking getaddrinfo calls for one execution context.
#pragma once

#include <boost/asio/execution_context.hpp>

#include <cstddef>
#include <functional>
#include <memory>

namespace happy_dial::detail {

/// A pool of detached threads, one per execution context, that grows with demand up to a bound
/// (resolver_settings::max_system_threads) and shrinks when idle. Detached, because a thread
/// blocked in getaddrinfo (a query that is never answered holds it for glibc's whole retry
/// schedule) must never hold up the context's destruction or the process's exit: nothing ever joins
/// them (issue 11).
class lookup_threads final : public boost::asio::execution_context::service {
  public:
    using key_type = lookup_threads;
    inline static boost::asio::execution_context::id id;

    /// The default bound of concurrent lookups of one context; a lost query holds one thread
    /// until glibc gives up.
    static constexpr std::size_t default_max_threads = 64;

    explicit lookup_threads(boost::asio::execution_context& context);
    ~lookup_threads() override;

    /// Runs `job` on a pool thread, soon. After the context shut down, `job` is dropped.
    void submit(std::function<void()> job);

    /// Threads alive now (busy or idle), for tests.
    std::size_t threads() const;

    /// Changes the bound (at least 1); running threads above it leave when idle.
    void set_max_threads(std::size_t bound);

    /// What the threads share; defined in the source file.
    struct state;

  private:
    void shutdown() override;

    std::shared_ptr<state> state_;  // shared with the threads, which may outlive the service
};

}  // namespace happy_dial::detail
