// The initiating functions: dial a host or a list of endpoints the RFC 8305 way.
#pragma once

#include <happy_dial/detail/dial_state.hpp>
#include <happy_dial/dial_options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <concepts>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace happy_dial {

/// Completion signature of the operations that hand back a new socket.
using dial_signature = void(boost::system::error_code, boost::asio::ip::tcp::socket);
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

namespace detail {
template <endpoint_range R>
core::small_vector<tcp::endpoint, 2> to_endpoints(const R& range) {
    core::small_vector<tcp::endpoint, 2> out;
    if constexpr (std::forward_iterator<decltype(std::begin(range))>) {
        out.reserve(static_cast<std::size_t>(std::distance(std::begin(range), std::end(range))));
    }
    for (const auto& e : range) {
        out.push_back(static_cast<tcp::endpoint>(e));
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
/// `void(boost::system::error_code, boost::asio::ip::tcp::socket)`: the connected socket (on
/// `executor`) or an error. When every attempt failed, the error is that of the first attempt
/// started (the most preferred address); dial_options::report gets every attempt's own error.
/// Errors: happy_dial::error (bad input, timed_out, no_endpoints, ...), the resolver's
/// (e.g. host_not_found) or the connect's (e.g. connection_refused).
///
/// @par Per-operation cancellation
/// `terminal` and `total`: every attempt is aborted and closed; completes with
/// `operation_aborted` and no socket. `partial`: no new attempt starts; attempts in flight may
/// still win; completes with `operation_aborted` if none does. A lookup still running in
/// getaddrinfo is abandoned, never waited for.
///
/// Never completes inside the initiating function. The handler runs on its associated
/// executor; the associated allocator allocates the operation's state.
template <class CompletionToken>
auto async_dial(const boost::asio::any_io_executor& executor,
                std::string_view host,
                std::string_view service,
                const dial_options& options,
                CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, dial_signature>(
        detail::initiate_dial{}, token, executor, detail::host_request(host, service), options);
}

/// async_dial() with the default dial_options.
template <class CompletionToken>
auto async_dial(const boost::asio::any_io_executor& executor,
                std::string_view host,
                std::string_view service,
                CompletionToken&& token) {
    return async_dial(
        executor, host, service, dial_options{}, std::forward<CompletionToken>(token));
}

/// Dials a list of endpoints (e.g. resolver results) with the same engine, without DNS and
/// without the Resolution Delay. Endpoints are ordered and interleaved by family (RFC 8305 §4);
/// duplicates and non-unicast endpoints are skipped. Completion and cancellation as above.
template <endpoint_range Range, class CompletionToken>
auto async_dial(const boost::asio::any_io_executor& executor,
                const Range& endpoints,
                const dial_options& options,
                CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, dial_signature>(
        detail::initiate_dial{}, token, executor, detail::range_request(endpoints), options);
}

/// async_dial() over endpoints with the default dial_options.
template <endpoint_range Range, class CompletionToken>
auto async_dial(const boost::asio::any_io_executor& executor,
                const Range& endpoints,
                CompletionToken&& token) {
    return async_dial(executor, endpoints, dial_options{}, std::forward<CompletionToken>(token));
}

/// async_dial() on an execution context's executor.
template <execution_context_type Context, class... Args>
requires(sizeof...(Args) >= 2) auto async_dial(Context& context, Args&&... args) {
    return async_dial(boost::asio::any_io_executor(context.get_executor()),
                      std::forward<Args>(args)...);
}

/// Drop-in for `asio::async_connect(socket, resolver.resolve(host, service), token)`: dials
/// with RFC 8305 racing and moves the winning connection into `socket` (closing whatever
/// `socket` held). Attempt sockets are created on `socket`'s executor.
///
/// @par Completion signature
/// `void(boost::system::error_code, boost::asio::ip::tcp::endpoint)`: the endpoint connected
/// to; on failure `socket` is closed and the endpoint is default-constructed.
///
/// @par Per-operation cancellation
/// As async_dial(). `socket` must outlive the operation and not be used while it runs.
template <class CompletionToken>
auto async_connect(boost::asio::ip::tcp::socket& socket,
                   std::string_view host,
                   std::string_view service,
                   const dial_options& options,
                   CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, connect_signature>(
        detail::initiate_connect{}, token, &socket, detail::host_request(host, service), options);
}

/// async_connect() with the default dial_options.
template <class CompletionToken>
auto async_connect(boost::asio::ip::tcp::socket& socket,
                   std::string_view host,
                   std::string_view service,
                   CompletionToken&& token) {
    return async_connect(
        socket, host, service, dial_options{}, std::forward<CompletionToken>(token));
}

/// Drop-in for `asio::async_connect(socket, endpoints, token)` with RFC 8305 racing.
template <endpoint_range Range, class CompletionToken>
auto async_connect(boost::asio::ip::tcp::socket& socket,
                   const Range& endpoints,
                   const dial_options& options,
                   CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, connect_signature>(
        detail::initiate_connect{}, token, &socket, detail::range_request(endpoints), options);
}

/// async_connect() over endpoints with the default dial_options.
template <endpoint_range Range, class CompletionToken>
auto async_connect(boost::asio::ip::tcp::socket& socket,
                   const Range& endpoints,
                   CompletionToken&& token) {
    return async_connect(socket, endpoints, dial_options{}, std::forward<CompletionToken>(token));
}

}  // namespace happy_dial
