// The initiating functions: dial a host or a list of endpoints the RFC 8305 way.
#pragma once

#include <happy_dial/detail/dial_op.hpp>
#include <happy_dial/detail/finishers.hpp>
#include <happy_dial/dial_options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/basic_socket.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/execution/executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/is_executor.hpp>

#include <concepts>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>

namespace happy_dial {

/// Completion signature of the operations that hand back a new socket on `Executor`.
template <class Executor>
using basic_dial_signature = void(boost::system::error_code,
                                  boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>);
/// Completion signature of async_dial on an any_io_executor or an execution context.
using dial_signature = basic_dial_signature<boost::asio::any_io_executor>;
/// Completion signature of the operations that fill a caller's socket (like asio::async_connect).
using connect_signature = void(boost::system::error_code, boost::asio::ip::tcp::endpoint);

/// A range of endpoints: ip::tcp::resolver results, std::vector<ip::tcp::endpoint>, ...
template <class R>
concept endpoint_range = requires(const R& r) {
    std::begin(r);
    std::end(r);
    { *std::begin(r) } -> std::convertible_to<boost::asio::ip::tcp::endpoint>;
};

/// An execution context (io_context, thread_pool) passed where an executor is expected.
template <class C>
concept execution_context_type = std::is_convertible_v<C&, boost::asio::execution_context&>;

/// An Asio executor (io_context::executor_type, a strand, any_io_executor, ...).
template <class E>
concept executor_type =
    boost::asio::execution::is_executor<E>::value || boost::asio::is_executor<E>::value;

namespace detail {
template <endpoint_range R>
core::small_vector<boost::asio::ip::tcp::endpoint, 2> to_endpoints(const R& range) {
    core::small_vector<boost::asio::ip::tcp::endpoint, 2> out;
    if constexpr (std::forward_iterator<decltype(std::begin(range))>) {
        out.reserve(static_cast<std::size_t>(std::distance(std::begin(range), std::end(range))));
    }
    for (const auto& e : range) {
        out.push_back(static_cast<boost::asio::ip::tcp::endpoint>(e));
    }
    return out;
}

inline dial_request host_request(std::string_view host, std::string_view service) {
    return dial_request{std::string(host), std::string(service), {}, true};
}

template <endpoint_range R>
dial_request range_request(const R& range) {
    return dial_request{{}, {}, to_endpoints(range), false};
}

/// Initiation of async_dial: a new socket on `Executor`.
template <class Executor>
class initiate_dial {
  public:
    using executor_type = Executor;  ///< where the socket lives

    explicit initiate_dial(const Executor& executor) : executor_(executor) {}
    executor_type get_executor() const noexcept { return executor_; }

    template <class Handler>
    void operator()(Handler&& handler, dial_request request, const dial_options& options) const {
        launch_dial(std::forward<Handler>(handler),
                    boost::asio::any_io_executor(executor_),
                    return_socket<Executor>{executor_},
                    std::move(request),
                    options);
    }

  private:
    Executor executor_;
};

/// Initiation of async_connect: fills the caller's socket.
template <class Executor>
class initiate_connect {
  public:
    using executor_type = Executor;  ///< the socket's executor type

    explicit initiate_connect(boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket)
        : socket_(&socket) {}
    executor_type get_executor() const noexcept { return socket_->get_executor(); }

    template <class Handler>
    void operator()(Handler&& handler, dial_request request, const dial_options& options) const {
        launch_dial(std::forward<Handler>(handler),
                    boost::asio::any_io_executor(socket_->get_executor()),
                    fill_socket<Executor>{socket_},
                    std::move(request),
                    options);
    }

  private:
    boost::asio::basic_socket<boost::asio::ip::tcp, Executor>* socket_;
};
}  // namespace detail

/// Resolves `host` and `service` and connects to the first address that answers, racing the
/// addresses as RFC 8305 (Happy Eyeballs v2) describes.
///
/// AAAA and A are looked up concurrently; IPv6 addresses are tried first (see
/// dial_options::family), staggered by the Connection Attempt Delay; the first attempt to
/// connect wins and every other one is cancelled and closed. IP literals with a numeric port
/// skip DNS.
///
/// @par Completion signature
/// `void(boost::system::error_code, boost::asio::basic_stream_socket<ip::tcp, Executor>)`: the
/// connected socket (on `executor`) or an error. When every attempt failed, the error is that of
/// the first attempt started (the most preferred address); dial_options::report gets every
/// attempt's own error. Errors: happy_dial::error (bad input, timed_out, no_endpoints, ...), the
/// resolver's (e.g. host_not_found) or the connect's (e.g. connection_refused).
///
/// @par Per-operation cancellation
/// `terminal` and `total`: every attempt is aborted and closed; completes with
/// `operation_aborted` and no socket. `partial`: no new attempt starts; attempts in flight may
/// still win; completes with `operation_aborted` if none does. A lookup still running in
/// getaddrinfo is abandoned, never waited for. Emit the signal as Asio requires: from the
/// executor the operation runs on (post the emit there from other threads).
///
/// Never completes inside the initiating function. The handler runs on its associated
/// executor; the associated allocator allocates the operation's state and its intermediate
/// operations. The default completion token is the executor's default.
template <executor_type Executor,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(basic_dial_signature<Executor>)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_dial(const Executor& executor,
                std::string_view host,
                std::string_view service,
                const dial_options& options,
                CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return boost::asio::async_initiate<CompletionToken, basic_dial_signature<Executor>>(
        detail::initiate_dial<Executor>(executor),
        token,
        detail::host_request(host, service),
        options);
}

/// async_dial() with the default dial_options.
template <executor_type Executor,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(basic_dial_signature<Executor>)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_dial(const Executor& executor,
                std::string_view host,
                std::string_view service,
                CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return async_dial(
        executor, host, service, dial_options{}, std::forward<CompletionToken>(token));
}

/// Dials a list of endpoints (e.g. resolver results) with the same engine, without DNS and
/// without the Resolution Delay. Endpoints are ordered and interleaved by family (RFC 8305 §4);
/// duplicates and non-unicast endpoints are skipped. Completion and cancellation as above.
template <executor_type Executor,
          endpoint_range Range,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(basic_dial_signature<Executor>)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_dial(const Executor& executor,
                const Range& endpoints,
                const dial_options& options,
                CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return boost::asio::async_initiate<CompletionToken, basic_dial_signature<Executor>>(
        detail::initiate_dial<Executor>(executor),
        token,
        detail::range_request(endpoints),
        options);
}

/// async_dial() over endpoints with the default dial_options.
template <executor_type Executor,
          endpoint_range Range,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(basic_dial_signature<Executor>)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_dial(const Executor& executor,
                const Range& endpoints,
                CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return async_dial(executor, endpoints, dial_options{}, std::forward<CompletionToken>(token));
}

/// async_dial() on an execution context: the socket is an ip::tcp::socket (any_io_executor).
template <execution_context_type Context, class... Args>
requires(sizeof...(Args) >= 1) auto async_dial(Context& context, Args&&... args) {
    return async_dial(boost::asio::any_io_executor(context.get_executor()),
                      std::forward<Args>(args)...);
}

/// Drop-in for `asio::async_connect(socket, resolver.resolve(host, service), token)`: dials
/// with RFC 8305 racing and moves the winning connection into `socket` (closing whatever
/// `socket` held). Any executor type; attempt sockets are created on `socket`'s executor.
///
/// @par Completion signature
/// `void(boost::system::error_code, boost::asio::ip::tcp::endpoint)`: the endpoint connected
/// to; on failure `socket` is closed and the endpoint is default-constructed.
///
/// @par Per-operation cancellation
/// As async_dial(). `socket` must outlive the operation and not be used while it runs.
template <class Executor,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(connect_signature)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_connect(boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket,
                   std::string_view host,
                   std::string_view service,
                   const dial_options& options,
                   CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return boost::asio::async_initiate<CompletionToken, connect_signature>(
        detail::initiate_connect<Executor>(socket),
        token,
        detail::host_request(host, service),
        options);
}

/// async_connect() with the default dial_options.
template <class Executor,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(connect_signature)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_connect(boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket,
                   std::string_view host,
                   std::string_view service,
                   CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return async_connect(
        socket, host, service, dial_options{}, std::forward<CompletionToken>(token));
}

/// Drop-in for `asio::async_connect(socket, endpoints, token)` with RFC 8305 racing.
template <class Executor,
          endpoint_range Range,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(connect_signature)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_connect(boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket,
                   const Range& endpoints,
                   const dial_options& options,
                   CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return boost::asio::async_initiate<CompletionToken, connect_signature>(
        detail::initiate_connect<Executor>(socket),
        token,
        detail::range_request(endpoints),
        options);
}

/// async_connect() over endpoints with the default dial_options.
template <class Executor,
          endpoint_range Range,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(connect_signature)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_connect(boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket,
                   const Range& endpoints,
                   CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return async_connect(socket, endpoints, dial_options{}, std::forward<CompletionToken>(token));
}

}  // namespace happy_dial
