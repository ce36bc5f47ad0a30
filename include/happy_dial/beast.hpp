// Dialling into a Beast stream (beast::tcp_stream, beast::basic_stream) with the stream's own
// timeout: the dial is bounded by the stream's expiry (expires_after, expires_at, expires_never)
// and fails with beast::error::timeout as Beast's own async_connect does. Beast is header-only;
// include this header only where Beast is used.
#pragma once

#include <happy_dial/async_dial.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/error.hpp>

#include <array>
#include <memory>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>

namespace happy_dial {
namespace detail {

// One end of a socket pair that nothing is ever written to: a read on the other end waits until
// Beast's timer (the stream's expiry) ends it, so the dial learns the expiry without reading it
// (Beast has no accessor for it).
class silent_peer {
  public:
    silent_peer() = default;
    silent_peer(silent_peer&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    silent_peer& operator=(silent_peer&&) = delete;
    ~silent_peer() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    // Opens the pair; returns the watched end (the caller owns it), or -1.
    int open() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
            return -1;
        }
        fd_ = fds[1];
        return fds[0];
    }

  private:
    int fd_ = -1;
};

// The Beast stream whose timer bounds the dial: the stream itself, or the basic_stream under a
// beast::ssl_stream.
template <class Stream>
auto& timed_layer(Stream& stream) {
    if constexpr (requires { stream.socket(); }) {
        return stream;
    } else {
        return stream.next_layer();
    }
}

// The composed operation behind async_connect(basic_stream&, ...) and async_connect(ssl_stream&,
// ...): the dial (made by `make_dial`, a deferred operation with signature
// void(error_code, Result)) and a watch on the stream's timer run as a parallel group; the first
// to finish cancels the other. The winner, a socket or a TLS stream, moves into the stream.
template <class Stream, class Result, class MakeDial>
class beast_connect_op {
  public:
    beast_connect_op(Stream& stream, MakeDial make_dial)
        : stream_(&stream), make_dial_(std::move(make_dial)), byte_(std::make_unique<char>()) {}

    template <class Self>
    void operator()(Self& self) {
        auto& timed = timed_layer(*stream_);
        boost::system::error_code ec;
        timed.socket().close(ec);
        const int watched = peer_.open();
        if (watched < 0) {
            ec.assign(errno, boost::asio::error::get_system_category());
        } else {
            timed.socket().assign(boost::asio::ip::tcp::v4(), watched, ec);
            if (ec) {
                ::close(watched);
            }
        }
        if (ec) {
            // Not inside the initiating function: complete through the stream's executor.
            boost::asio::post(timed.get_executor(),
                              boost::asio::append(std::move(self),
                                                  std::array<std::size_t, 2>{},
                                                  ec,
                                                  std::size_t{0},
                                                  ec,
                                                  make_dial_.empty_result()));
            return;
        }
        auto watch =
            timed.async_read_some(boost::asio::buffer(byte_.get(), 1), boost::asio::deferred);
        boost::asio::experimental::make_parallel_group(std::move(watch), make_dial_())
            .async_wait(boost::asio::experimental::wait_for_one(), std::move(self));
    }

    template <class Self>
    void operator()(Self& self,
                    std::array<std::size_t, 2> order,
                    boost::system::error_code watch_ec,
                    std::size_t,
                    boost::system::error_code dial_ec,
                    Result result) {
        auto& timed = timed_layer(*stream_);
        boost::system::error_code ignored;
        timed.socket().close(ignored);  // the watched end (Beast closed it on a timeout)
        if (order[0] == 0 && watch_ec == boost::beast::error::timeout) {
            self.complete(boost::beast::error::timeout, {});
            return;
        }
        if (dial_ec) {
            self.complete(dial_ec, {});
            return;
        }
        if constexpr (std::is_same_v<Result, std::decay_t<decltype(timed.socket())>>) {
            timed.socket() = std::move(result);
        } else {
            *stream_ = std::move(result);  // a new TLS stream: its timer has no expiry
        }
        const auto peer = timed_layer(*stream_).socket().remote_endpoint(ignored);
        self.complete({}, peer);
    }

  private:
    Stream* stream_;
    MakeDial make_dial_;
    std::unique_ptr<char> byte_;  // the watch's buffer, at a stable address
    silent_peer peer_;
};

// Makes the plain dial of async_connect(basic_stream&, ...).
template <class Executor>
struct make_plain_dial {
    Executor executor;
    dial_request request;
    dial_options options;

    auto operator()() {
        return boost::asio::async_initiate<const boost::asio::deferred_t&,
                                           basic_dial_signature<Executor>>(
            initiate_dial<Executor>(executor), boost::asio::deferred, std::move(request), options);
    }
    auto empty_result() const {
        return boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>(executor);
    }
};

}  // namespace detail

/// Dials `host` and `service` with RFC 8305 racing and moves the winning connection into the
/// Beast stream's socket, honouring the stream's timeout as Beast's own `async_connect` does:
/// an expiry set with `expires_after`/`expires_at` bounds the whole dial (DNS included), and
/// when it passes first the dial is cancelled and the operation fails with
/// `beast::error::timeout` (an expiry already past at Beast's first timer pass, which a
/// loopback connect may still beat, as with Beast's own connect); `expires_never` leaves the
/// dial to dial_options. The expiry stays set for the reads and writes that follow, as with
/// Beast's connect.
///
/// @par Completion signature
/// `void(boost::system::error_code, ip::tcp::endpoint)`: the peer connected to, or an error
/// (`beast::error::timeout`, or the dial's: happy_dial::error, resolver or connect errors).
///
/// @par Per-operation cancellation
/// `terminal` and `total` cancel the dial (and the watch on the timer); completes with
/// `operation_aborted`.
///
/// Costs two descriptors more than the dial while it runs (the socket pair whose read
/// carries Beast's timer: Beast offers no way to read the expiry).
template <class Executor,
          class RatePolicy,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(connect_signature)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_connect(boost::beast::basic_stream<boost::asio::ip::tcp, Executor, RatePolicy>& stream,
                   std::string_view host,
                   std::string_view service,
                   const dial_options& options,
                   CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    using stream_type = boost::beast::basic_stream<boost::asio::ip::tcp, Executor, RatePolicy>;
    using make_dial = detail::make_plain_dial<Executor>;
    return boost::asio::async_compose<CompletionToken, connect_signature>(
        detail::beast_connect_op<stream_type, typename stream_type::socket_type, make_dial>(
            stream, make_dial{stream.get_executor(), detail::host_request(host, service), options}),
        token,
        stream);
}

/// async_connect() into a Beast stream with the default dial_options.
template <class Executor,
          class RatePolicy,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(connect_signature)
              CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_connect(boost::beast::basic_stream<boost::asio::ip::tcp, Executor, RatePolicy>& stream,
                   std::string_view host,
                   std::string_view service,
                   CompletionToken&& token = boost::asio::default_completion_token_t<Executor>()) {
    return async_connect(
        stream, host, service, dial_options{}, std::forward<CompletionToken>(token));
}

}  // namespace happy_dial
