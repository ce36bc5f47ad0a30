// Dialling into a Beast TLS stream (beast::ssl_stream<beast::tcp_stream>) with racing through
// the TLS handshake: the attempt wins only once its handshake succeeded, and the stream's
// timeout bounds the dial as Beast's own async_connect does. Needs Beast and OpenSSL.
#pragma once

#include <happy_dial/beast.hpp>
#include <happy_dial/tls.hpp>

#include <boost/beast/ssl/ssl_stream.hpp>

#include <string>
#include <string_view>

namespace happy_dial {

/// Beast's TLS stream over a basic_stream on `Executor`.
template <class Executor, class RatePolicy>
using beast_tls_stream = boost::beast::ssl_stream<
    boost::beast::basic_stream<boost::asio::ip::tcp, Executor, RatePolicy>>;

namespace detail {

// Makes the TLS dial of async_connect(beast::ssl_stream&, ...): its result is a Beast TLS
// stream with the handshake done.
template <class Executor, class Stream>
struct make_tls_dial {
    Executor executor;
    boost::asio::ssl::context* context;
    dial_request request;
    dial_options options;
    std::string server_name;

    auto operator()() {
        return boost::asio::async_initiate<const boost::asio::deferred_t&,
                                           void(boost::system::error_code, Stream)>(
            initiate_dial_tls<Executor, Stream>(executor, *context),
            boost::asio::deferred,
            std::move(request),
            options,
            std::move(server_name));
    }
    Stream empty_result() const { return Stream(executor, *context); }
};

}  // namespace detail

/// Dials `host` and `service` racing through the TLS handshake (as async_dial_tls()) and moves
/// the winning TLS stream, handshake done, into `stream`, whose context must be `context`. SNI
/// and host name verification use `host` (no SNI for an IP literal). The lowest layer's expiry
/// (`beast::get_lowest_layer(stream).expires_after(...)`) bounds the whole dial, and when it
/// passes first the operation fails with `beast::error::timeout`. The stream handed back is a
/// new one: set its expiry again before the next read or write (as Beast's examples do before
/// every operation).
///
/// @par Completion signature
/// `void(boost::system::error_code, ip::tcp::endpoint)`: the peer connected to, or an error
/// (`beast::error::timeout`, a TLS error such as a verification failure, the dial's).
///
/// @par Per-operation cancellation
/// `terminal` and `total` cancel the dial, handshakes included; completes with
/// `operation_aborted`.
template <class Executor,
          class RatePolicy,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(connect_signature)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_connect(beast_tls_stream<Executor, RatePolicy>& stream,
                   boost::asio::ssl::context& context,
                   std::string_view host,
                   std::string_view service,
                   const dial_options& options,
                   CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    using stream_type = beast_tls_stream<Executor, RatePolicy>;
    using make_dial = detail::make_tls_dial<Executor, stream_type>;
    return boost::asio::async_compose<CompletionToken, connect_signature>(
        detail::beast_connect_op<stream_type, stream_type, make_dial>(
            stream,
            make_dial{stream.get_executor(),
                      &context,
                      detail::host_request(host, service),
                      options,
                      std::string(host)}),
        token,
        stream);
}

/// async_connect() into a Beast TLS stream with the default dial_options.
template <class Executor,
          class RatePolicy,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(connect_signature)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_connect(beast_tls_stream<Executor, RatePolicy>& stream,
                   boost::asio::ssl::context& context,
                   std::string_view host,
                   std::string_view service,
                   CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return async_connect(
        stream, context, host, service, dial_options{}, std::forward<CompletionToken>(token));
}

}  // namespace happy_dial
