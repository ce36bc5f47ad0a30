// Racing through the TLS handshake: an attempt wins only once its TLS handshake succeeded (the
// Happy Eyeballs v3 draft: "clients SHOULD wait for the TLS handshake to complete before
// cancelling other connection attempts"). Needs OpenSSL (link OpenSSL::SSL), as asio::ssl does.
#pragma once

#include <happy_dial/async_dial.hpp>
#include <happy_dial/handshake.hpp>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace happy_dial {

/// The TLS stream async_dial_tls hands back: asio::ssl::stream over a socket on `Executor`.
template <class Executor = boost::asio::any_io_executor>
using basic_tls_stream =
    boost::asio::ssl::stream<boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>>;
/// basic_tls_stream on an any_io_executor.
using tls_stream = basic_tls_stream<>;

/// Completion signature of async_dial_tls on `Executor`.
template <class Executor>
using basic_tls_dial_signature = void(boost::system::error_code, basic_tls_stream<Executor>);

namespace detail {

/// ALPN ids in the wire form of the ALPN extension (RFC 7301 §3.1: each id prefixed by its
/// length); ids that are empty or longer than 255 bytes are left out.
inline std::vector<unsigned char> alpn_wire(std::span<const std::string> ids) {
    std::vector<unsigned char> wire;
    for (const auto& id : ids) {
        if (!id.empty() && id.size() <= 255) {
            wire.push_back(static_cast<unsigned char>(id.size()));
            wire.insert(wire.end(), id.begin(), id.end());
        }
    }
    return wire;
}

/// The socket under a TLS stream: asio::ssl::stream's next layer, or the socket of a Beast
/// stream (beast::ssl_stream<beast::basic_stream<...>>).
template <class Stream>
auto& lowest_socket(Stream& stream) {
    auto& next = stream.next_layer();
    if constexpr (requires { next.socket(); }) {
        return next.socket();
    } else {
        return next;
    }
}

}  // namespace detail

/// The TLS client handshake as every attempt's stage (dial_options::handshake). Each attempt's
/// connected socket moves into a stream of its own (`Stream`: asio::ssl::stream over a socket
/// on `Executor`, or Beast's ssl_stream over a basic_stream); a loser's stream (and its SSL
/// state) is freed as soon as its attempt is over, the winner's is taken with take().
///
/// With HTTPS records (dial_options::https_records), an attempt to a service offers in its
/// ALPN extension the service's ids that the caller speaks (RFC 9460 §7.1.2), instead of
/// whatever the context offers; attempts without a service offer the context's. The service's
/// ECH configuration is not used: OpenSSL 3.0 has no Encrypted Client Hello.
template <class Executor = boost::asio::any_io_executor, class Stream = basic_tls_stream<Executor>>
class tls_handshake final : public handshake_stage {
  public:
    using stream_type = Stream;  ///< one per attempt

    /// `server_name`: sent as SNI and checked against the certificate (RFC 6125 host name
    /// verification, added to whatever the context verifies); empty = neither. Peer
    /// verification itself is the context's setting (context::set_verify_mode).
    tls_handshake(const Executor& executor,
                  boost::asio::ssl::context& context,
                  std::string server_name)
        : executor_(executor), context_(&context), server_name_(std::move(server_name)) {}

    void prepare(core::attempt_id id, const attempt_service& service) override {
        if (alpn_.size() <= id) {
            alpn_.resize(id + 1);
        }
        alpn_[id] = detail::alpn_wire(service.alpns);
    }

    void start(core::attempt_id id,
               boost::asio::ip::tcp::socket& socket,
               const boost::asio::ip::tcp::endpoint&,
               stage_completion done) override {
        if (streams_.size() <= id) {
            streams_.resize(id + 1);
        }
        auto& stream = streams_[id];
        if constexpr (std::is_same_v<Executor, boost::asio::any_io_executor>) {
            stream = std::make_unique<stream_type>(std::move(socket), *context_);
        } else {
            stream = std::make_unique<stream_type>(executor_, *context_);
            if (auto ec = detail::adopt(detail::lowest_socket(*stream), std::move(socket))) {
                boost::asio::post(executor_, [done = std::move(done), ec]() mutable { done(ec); });
                return;
            }
        }
        if (id < alpn_.size() && !alpn_[id].empty()) {
            ::SSL_set_alpn_protos(
                stream->native_handle(), alpn_[id].data(), static_cast<unsigned>(alpn_[id].size()));
        }
        if (!server_name_.empty()) {
            // SNI (RFC 6066 §3) takes a host name, never an IP literal.
            boost::system::error_code ec;
            boost::asio::ip::make_address(server_name_, ec);
            if (ec) {
                ::SSL_set_tlsext_host_name(stream->native_handle(), server_name_.c_str());
            }
            stream->set_verify_callback(boost::asio::ssl::host_name_verification(server_name_));
        }
        stream->async_handshake(boost::asio::ssl::stream_base::client, std::move(done));
    }

    void cancel(core::attempt_id id) override {
        if (id < streams_.size() && streams_[id]) {
            boost::system::error_code ignored;
            detail::lowest_socket(*streams_[id]).close(ignored);  // aborts the handshake
        }
    }

    void release(core::attempt_id id) noexcept override {
        if (id < streams_.size()) {
            streams_[id].reset();
        }
        if (id < alpn_.size()) {
            alpn_[id] = {};
        }
    }

    std::string_view name() const noexcept override { return "tls"; }

    /// The winner's stream, moved out.
    stream_type take(core::attempt_id id) { return std::move(*streams_[id]); }

    /// A stream that holds no connection, for a failed dial's completion.
    stream_type empty_stream() const { return stream_type(executor_, *context_); }

  private:
    Executor executor_;
    boost::asio::ssl::context* context_;
    std::string server_name_;
    std::vector<std::unique_ptr<stream_type>> streams_;  // by attempt id; stable addresses
    std::vector<std::vector<unsigned char>> alpn_;       // by attempt id; empty: the context's
};

namespace detail {

/// Completes async_dial_tls with the winner's stream, or an empty one on failure.
template <class Executor, class Stream = basic_tls_stream<Executor>>
struct return_tls_stream {
    std::shared_ptr<tls_handshake<Executor, Stream>> stage;

    template <class Handler>
    void operator()(Handler&& handler, dial_result&& result) {
        auto tls = std::move(stage);  // the losers' streams go with it, before the upcall
        if (result.error || !result.winner) {
            std::move(handler)(result.error, tls->empty_stream());
        } else {
            std::move(handler)(result.error, tls->take(*result.winner));
        }
    }
};

/// Completes async_connect on a caller's TLS stream: move-assigns the winner's stream into it.
template <class Executor>
struct fill_tls_stream {
    basic_tls_stream<Executor>* target;
    std::shared_ptr<tls_handshake<Executor>> stage;

    template <class Handler>
    void operator()(Handler&& handler, dial_result&& result) {
        auto tls = std::move(stage);
        if (!result.error && result.winner) {
            {
                // Boost 1.81's ssl::stream move assignment (ssl::detail::engine::operator=)
                // overwrites the target's SSL and BIO without freeing them: move them into a
                // stream that frees them (and closes the caller's old socket) first.
                basic_tls_stream<Executor> previous(std::move(*target));
            }
            *target = tls->take(*result.winner);
        } else {
            boost::system::error_code ignored;
            target->next_layer().close(ignored);
        }
        std::move(handler)(result.error,
                           result.error ? boost::asio::ip::tcp::endpoint{} : result.endpoint);
    }
};

/// Initiation of async_dial_tls (of a dial that hands back a `Stream`).
template <class Executor, class Stream = basic_tls_stream<Executor>>
class initiate_dial_tls {
  public:
    using executor_type = Executor;  ///< where the stream lives

    initiate_dial_tls(const Executor& executor, boost::asio::ssl::context& context)
        : executor_(executor), context_(&context) {}
    executor_type get_executor() const noexcept { return executor_; }

    template <class Handler>
    void operator()(Handler&& handler,
                    dial_request request,
                    dial_options options,
                    std::string server_name) const {
        auto stage = std::make_shared<tls_handshake<Executor, Stream>>(
            executor_, *context_, std::move(server_name));
        options.handshake = stage;
        launch_dial(std::forward<Handler>(handler),
                    boost::asio::any_io_executor(executor_),
                    return_tls_stream<Executor, Stream>{std::move(stage)},
                    std::move(request),
                    options);
    }

  private:
    Executor executor_;
    boost::asio::ssl::context* context_;
};

/// Initiation of async_connect on a caller's TLS stream.
template <class Executor>
class initiate_connect_tls {
  public:
    using executor_type = Executor;  ///< the stream's executor type

    initiate_connect_tls(basic_tls_stream<Executor>& stream, boost::asio::ssl::context& context)
        : stream_(&stream), context_(&context) {}
    executor_type get_executor() const noexcept { return stream_->get_executor(); }

    template <class Handler>
    void operator()(Handler&& handler,
                    dial_request request,
                    dial_options options,
                    std::string server_name) const {
        auto stage = std::make_shared<tls_handshake<Executor>>(
            stream_->get_executor(), *context_, std::move(server_name));
        options.handshake = stage;
        launch_dial(std::forward<Handler>(handler),
                    boost::asio::any_io_executor(stream_->get_executor()),
                    fill_tls_stream<Executor>{stream_, std::move(stage)},
                    std::move(request),
                    options);
    }

  private:
    basic_tls_stream<Executor>* stream_;
    boost::asio::ssl::context* context_;
};

}  // namespace detail

/// Resolves `host` and `service` and races the addresses as async_dial() does, except that an
/// attempt wins only once its TLS client handshake succeeded: a path that completes TCP but
/// stalls or fails TLS (a TCP-terminating middlebox, a bad certificate) loses like a dead
/// one. SNI and host name verification use `host` (unless it is an IP literal: no SNI, the
/// literal is verified). dial_options::handshake_timeout bounds each handshake,
/// handshake_grace how long the next attempt waits once TCP connected.
///
/// @par Completion signature
/// `void(boost::system::error_code, asio::ssl::stream<basic_stream_socket<ip::tcp, Executor>>)`:
/// the stream after a successful handshake, or an error (the first attempt's when all failed:
/// a TLS error such as a verification failure, a TCP error, or happy_dial::error).
///
/// @par Per-operation cancellation
/// As async_dial(): `terminal` and `total` close every attempt, handshakes included.
template <executor_type Executor,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(basic_tls_dial_signature<Executor>)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_dial_tls(const Executor& executor,
                    boost::asio::ssl::context& context,
                    std::string_view host,
                    std::string_view service,
                    const dial_options& options,
                    CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return boost::asio::async_initiate<CompletionToken, basic_tls_dial_signature<Executor>>(
        detail::initiate_dial_tls<Executor>(executor, context),
        token,
        detail::host_request(host, service),
        options,
        std::string(host));
}

/// async_dial_tls() with the default dial_options.
template <executor_type Executor,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(basic_tls_dial_signature<Executor>)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_dial_tls(const Executor& executor,
                    boost::asio::ssl::context& context,
                    std::string_view host,
                    std::string_view service,
                    CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return async_dial_tls(
        executor, context, host, service, dial_options{}, std::forward<CompletionToken>(token));
}

/// async_dial_tls() over a list of endpoints; `server_name` is the name for SNI and
/// verification (empty: neither). Completion and cancellation as above.
template <executor_type Executor,
          endpoint_range Range,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(basic_tls_dial_signature<Executor>)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_dial_tls(const Executor& executor,
                    boost::asio::ssl::context& context,
                    const Range& endpoints,
                    std::string_view server_name,
                    const dial_options& options,
                    CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return boost::asio::async_initiate<CompletionToken, basic_tls_dial_signature<Executor>>(
        detail::initiate_dial_tls<Executor>(executor, context),
        token,
        detail::range_request(endpoints),
        options,
        std::string(server_name));
}

/// async_dial_tls() on an execution context: the stream is a tls_stream (any_io_executor).
template <execution_context_type Context, class... Args>
requires(sizeof...(Args) >= 1) auto async_dial_tls(Context& context, Args&&... args) {
    return async_dial_tls(boost::asio::any_io_executor(context.get_executor()),
                          std::forward<Args>(args)...);
}

/// Drop-in for connecting a caller's TLS stream: dials `host` and `service` with TLS racing
/// and move-assigns the winning stream (TCP connected, handshake done) into `stream`, whose
/// context must be `context`. Completion signature `void(boost::system::error_code,
/// ip::tcp::endpoint)`; cancellation as async_dial_tls().
template <class Executor,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(connect_signature)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_connect(basic_tls_stream<Executor>& stream,
                   boost::asio::ssl::context& context,
                   std::string_view host,
                   std::string_view service,
                   const dial_options& options,
                   CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return boost::asio::async_initiate<CompletionToken, connect_signature>(
        detail::initiate_connect_tls<Executor>(stream, context),
        token,
        detail::host_request(host, service),
        options,
        std::string(host));
}

}  // namespace happy_dial
