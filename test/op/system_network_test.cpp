// system_network's connect: what it tells the dial (settled or pending) and the outcomes it
// reports, on loopback, through a transport that forwards to it and records its answers.
#include "catch.hpp"
#include "op/loopback.hpp"

#include <happy_dial/happy_dial.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <vector>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

class recording_transport final : public dial_transport {
  public:
    void async_lookup(const lookup_query& query, answer_handler done) override {
        system_network::instance()->async_lookup(query, std::move(done));
    }
    connect_progress async_connect(tcp::socket& socket,
                                   const tcp::endpoint& target,
                                   connect_completion done) override {
        const auto progress =
            system_network::instance()->async_connect(socket, target, std::move(done));
        answers.push_back(progress);
        return progress;
    }

    std::vector<connect_progress> answers;
};

struct dial_outcome {
    boost::system::error_code error;
    tcp::socket socket;
    clock_type::duration elapsed{};
};

dial_outcome dial_through(asio::io_context& ctx,
                          const std::shared_ptr<recording_transport>& transport,
                          std::vector<tcp::endpoint> targets,
                          dial_options options = {}) {
    options.transport = transport;
    dial_outcome outcome{asio::error::would_block, tcp::socket(ctx)};
    const auto start = clock_type::now();
    async_dial(ctx, targets, options, [&](boost::system::error_code ec, tcp::socket s) {
        outcome.error = ec;
        outcome.socket = std::move(s);
        outcome.elapsed = clock_type::now() - start;
    });
    ctx.run();
    return outcome;
}

}  // namespace

TEST_CASE("system_network: a loopback connect is settled when async_connect returns", "[op]") {
    accepting_listener listener(loopback_v4);
    asio::io_context ctx;
    auto transport = std::make_shared<recording_transport>();
    auto outcome = dial_through(ctx, transport, {listener.endpoint()});
    REQUIRE_FALSE(outcome.error);
    CHECK(outcome.socket.remote_endpoint() == listener.endpoint());
    CHECK(transport->answers == std::vector<connect_progress>{connect_progress::settled});
}

TEST_CASE("system_network: a refused loopback connect is settled with connection_refused", "[op]") {
    refusing_port port(loopback_v4);
    asio::io_context ctx;
    auto transport = std::make_shared<recording_transport>();
    dial_report report;
    dial_options options;
    options.report = &report;
    auto outcome = dial_through(ctx, transport, {port.endpoint()}, options);
    CHECK(outcome.error == asio::error::connection_refused);
    CHECK(transport->answers == std::vector<connect_progress>{connect_progress::settled});
    REQUIRE(report.attempts.size() == 1);
    CHECK(report.attempts[0].error == asio::error::connection_refused);
}

TEST_CASE("system_network: a dropped SYN is pending, and its attempt is cancelled and closed",
          "[op]") {
    black_hole hole(loopback_v4);
    accepting_listener listener(loopback_v4);
    asio::io_context ctx;
    auto transport = std::make_shared<recording_transport>();
    dial_options options;
    options.connection_attempt_delay = 50ms;
    {
        tcp::socket warm_up(ctx);  // creates the reactor's descriptors before the count
        warm_up.open(tcp::v4());
    }
    const int fds_before = open_fd_count();
    auto outcome = dial_through(ctx, transport, {hole.endpoint(), listener.endpoint()}, options);
    REQUIRE_FALSE(outcome.error);
    CHECK(outcome.socket.remote_endpoint() == listener.endpoint());
    CHECK(outcome.elapsed >= 50ms);
    CHECK(outcome.elapsed < 500ms);
    CHECK(transport->answers ==
          std::vector<connect_progress>{connect_progress::pending, connect_progress::settled});
    CHECK(open_fd_count() == fds_before + 1);  // the winner only: the pending loser is closed
}

TEST_CASE("system_network: a pending connect that completes later is reported connected", "[op]") {
    // A full accept queue drops the SYN; once the queue is drained, the SYN that TCP sends
    // again after its initial retransmission timeout (1 s, RFC 6298 §2.1) gets through.
    asio::io_context ctx;
    tcp::acceptor acceptor(ctx, {loopback_v4, 0});
    acceptor.listen(0);
    tcp::socket filler(ctx);
    filler.connect(acceptor.local_endpoint());
    asio::steady_timer drain(ctx, 100ms);
    tcp::socket accepted(ctx);
    drain.async_wait([&](boost::system::error_code) { accepted = acceptor.accept(); });
    auto transport = std::make_shared<recording_transport>();
    dial_options options;
    options.timeout = 5s;
    auto outcome = dial_through(ctx, transport, {acceptor.local_endpoint()}, options);
    REQUIRE_FALSE(outcome.error);
    CHECK(transport->answers == std::vector<connect_progress>{connect_progress::pending});
    CHECK(outcome.elapsed >= 500ms);
    CHECK(outcome.elapsed < 4s);
}

TEST_CASE("system_network: the dialled socket stays blocking for the caller", "[op]") {
    // The connect makes the socket non-blocking only in Asio's internal mode: the caller's
    // synchronous operations still block, as after asio::async_connect.
    asio::io_context ctx;
    tcp::acceptor acceptor(ctx, {loopback_v4, 0});
    acceptor.listen();
    auto transport = std::make_shared<recording_transport>();
    auto outcome = dial_through(ctx, transport, {acceptor.local_endpoint()});
    REQUIRE_FALSE(outcome.error);
    CHECK_FALSE(outcome.socket.non_blocking());
    auto server = acceptor.accept();
    asio::write(server, asio::buffer("ok", 2));
    char reply[2] = {};
    CHECK(asio::read(outcome.socket, asio::buffer(reply)) == 2);  // blocks until the bytes came
    CHECK(std::string(reply, 2) == "ok");
}
