// The engine with a handshake stage after TCP (issue 15): the Happy Eyeballs v3 draft's rules for
// racing through TLS, driven with the fake clock t(ms).
#include "catch.hpp"
#include "unit/engine_harness.hpp"

#include <happy_dial/error.hpp>

#include <boost/asio/error.hpp>

#include <vector>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace happy_dial::core;

namespace {

using seq = std::vector<action>;
const endpoint v6_1 = ep("2001:db8::1");
const endpoint v4_1 = ep("192.0.2.1");

dial_engine dual_stack(engine_config config = {}) {
    dial_engine e{config};
    e.start_with_endpoints(t(0), {v6_1, v4_1});
    REQUIRE(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    return e;
}

}  // namespace

TEST_CASE("stage: a TCP connect restarts the Connection Attempt Delay", "[engine][stage]") {
    auto e = dual_stack();
    e.on_attempt_connected(t(5), 0);
    CHECK(drain(e) == seq{set_timer{t(255)}});
    CHECK(e.trace().attempts.at(0).connected == t(5));
    e.on_timer(t(250));
    CHECK(drain(e).empty());
    e.on_timer(t(255));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}});
}

TEST_CASE("stage: handshake_grace sets the extension, 0 turns it off", "[engine][stage]") {
    engine_config config;
    config.handshake_grace = 100ms;
    auto e = dual_stack(config);
    e.on_attempt_connected(t(200), 0);
    CHECK(drain(e) == seq{set_timer{t(300)}});

    config.handshake_grace = 0ms;
    auto f = dual_stack(config);
    f.on_attempt_connected(t(200), 0);
    CHECK(drain(f).empty());  // the next attempt still starts at 250 ms
}

TEST_CASE("stage: a failed handshake starts the next attempt at once", "[engine][stage]") {
    auto e = dual_stack();
    e.on_attempt_connected(t(5), 0);
    drain(e);
    e.on_attempt_result(t(20), 0, boost::asio::error::connection_reset);
    CHECK(drain(e) == seq{start_attempt{1, v4_1}, cancel_timer{}});  // nothing left to start
    CHECK(e.trace().attempts.at(0).outcome == attempt_outcome::failed);
}

TEST_CASE("stage: the winner is the first stage to finish, not the first TCP connect",
          "[engine][stage]") {
    auto e = dual_stack();
    e.on_attempt_connected(t(5), 0);
    drain(e);
    e.on_timer(t(255));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}});
    e.on_attempt_connected(t(256), 1);
    drain(e);
    e.on_attempt_result(t(260), 1, {});
    CHECK(drain(e) == seq{cancel_attempt{0}, dial_done{{}, 1}});
}

TEST_CASE("stage: handshake_timeout ends a stalled handshake", "[engine][stage]") {
    engine_config config;
    config.handshake_timeout = 100ms;
    dial_engine e{config};
    e.start_with_endpoints(t(0), {v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v4_1}});
    e.on_attempt_connected(t(5), 0);
    CHECK(drain(e) == seq{set_timer{t(105)}});
    e.on_timer(t(105));
    CHECK(drain(e) ==
          seq{cancel_attempt{0}, dial_done{make_error_code(error::handshake_timed_out), {}}});
    CHECK(e.trace().attempts.at(0).outcome == attempt_outcome::timed_out);
}

TEST_CASE("stage: attempt_timeout bounds the TCP connect only", "[engine][stage]") {
    engine_config config;
    config.attempt_timeout = 50ms;
    dial_engine e{config};
    e.start_with_endpoints(t(0), {v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v4_1}, set_timer{t(50)}});
    e.on_attempt_connected(t(10), 0);
    CHECK(drain(e) == seq{cancel_timer{}});  // nothing left to time out
    e.on_attempt_result(t(200), 0, {});
    CHECK(drain(e) == seq{dial_done{{}, 0}});
}

TEST_CASE("stage: a connect report for an attempt already over is ignored", "[engine][stage]") {
    auto e = dual_stack();
    e.on_attempt_result(t(5), 0, boost::asio::error::connection_refused);
    drain(e);
    e.on_attempt_connected(t(6), 0);
    CHECK(drain(e).empty());
    CHECK_FALSE(e.trace().attempts.at(0).connected);
}
