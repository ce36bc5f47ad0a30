// async_connect into a Beast stream honours the stream's timeout (issue 15).
#include "catch.hpp"
#include "op/loopback.hpp"

#include <happy_dial/beast.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <string>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
namespace beast = boost::beast;

namespace {

struct beast_outcome {
    boost::system::error_code error;
    tcp::endpoint peer;
    clock_type::duration elapsed{};
};

beast_outcome connect(asio::io_context& ctx,
                      beast::tcp_stream& stream,
                      const tcp::endpoint& target,
                      const dial_options& options = {}) {
    beast_outcome outcome{asio::error::would_block, {}, {}};
    const auto start = clock_type::now();
    happy_dial::async_connect(stream,
                              target.address().to_string(),
                              std::to_string(target.port()),
                              options,
                              [&](boost::system::error_code ec, tcp::endpoint peer) {
                                  outcome.error = ec;
                                  outcome.peer = peer;
                                  outcome.elapsed = clock_type::now() - start;
                              });
    ctx.run();
    return outcome;
}

}  // namespace

TEST_CASE("beast: expires_after bounds the dial and fails with beast::error::timeout", "[op]") {
    black_hole hole(loopback_v4);
    asio::io_context ctx;
    beast::tcp_stream stream(ctx);
    stream.expires_after(300ms);
    const int fds_before = open_fd_count();
    auto outcome = connect(ctx, stream, hole.endpoint());
    CHECK(outcome.error == beast::error::timeout);
    CHECK(outcome.elapsed >= 290ms);
    CHECK(outcome.elapsed < 400ms);
    CHECK_FALSE(stream.socket().is_open());
    CHECK(open_fd_count() <= fds_before + 2);  // nothing left but the reactor's descriptors
}

TEST_CASE("beast: an expiry already past ends the dial at Beast's next timer pass", "[op]") {
    black_hole hole(loopback_v4);
    asio::io_context ctx;
    beast::tcp_stream stream(ctx);
    stream.expires_at(clock_type::now() - 1s);
    auto outcome = connect(ctx, stream, hole.endpoint());
    CHECK(outcome.error == beast::error::timeout);
    CHECK(outcome.elapsed < 50ms);
}

TEST_CASE("beast: a dial within the expiry fills the stream, which then reads and writes", "[op]") {
    asio::io_context ctx;
    tcp::acceptor acceptor(ctx, {loopback_v4, 0});
    acceptor.listen();
    beast::tcp_stream stream(ctx);
    stream.expires_after(5s);
    auto outcome = connect(ctx, stream, acceptor.local_endpoint());
    REQUIRE_FALSE(outcome.error);
    CHECK(outcome.peer == acceptor.local_endpoint());
    CHECK(outcome.elapsed < 100ms);  // the timer's watch ends with the dial, not at its expiry
    auto server = acceptor.accept();
    asio::write(server, asio::buffer("ok", 2));
    char reply[2] = {};
    ctx.restart();
    stream.expires_after(1s);
    boost::system::error_code read_ec = asio::error::would_block;
    asio::async_read(stream, asio::buffer(reply), [&](boost::system::error_code ec, std::size_t) {
        read_ec = ec;
    });
    ctx.run();
    CHECK_FALSE(read_ec);
    CHECK(std::string(reply, 2) == "ok");
}

TEST_CASE("beast: expires_never leaves the dial to dial_options", "[op]") {
    black_hole hole(loopback_v4);
    asio::io_context ctx;
    beast::tcp_stream stream(ctx);
    stream.expires_never();
    dial_options options;
    options.timeout = 100ms;
    auto outcome = connect(ctx, stream, hole.endpoint(), options);
    CHECK(outcome.error == error::timed_out);
    CHECK(outcome.elapsed >= 100ms);
    CHECK(outcome.elapsed < 200ms);
}
