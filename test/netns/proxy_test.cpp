// Racing through a proxy's handshake on a real kernel (issue 15): a proxy name with an IPv6 and
// an IPv4 address in the namespace, the test kit's proxy_server on each. Timing windows as in
// scenario_test.cpp: lower bounds are physical, upper bounds add `slack`.
#include "catch.hpp"
#include "netns/scenario.hpp"

#include <happy_dial/proxy.hpp>
#include <happy_dial/testing/proxy_server.hpp>

#include <boost/asio/io_context.hpp>

#include <memory>
#include <thread>

using namespace happy_dial;
using namespace happy_dial::netns;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using testing::proxy_behaviour;
using testing::proxy_server;

namespace {

constexpr double slack = 60;  // ms above every upper bound
constexpr double cad = 250;   // Connection Attempt Delay (default)
constexpr unsigned short proxy_port = 1080;

// A proxy on each of the name's addresses, served on a thread of their own while they live.
class proxies_on_thread {
  public:
    proxies_on_thread(proxy_behaviour on_v6, proxy_behaviour on_v4)
        : v6_(ctx_.get_executor(),
              {asio::ip::make_address("2001:db8::11"), proxy_port},
              {.behaviour = on_v6}),
          v4_(ctx_.get_executor(),
              {asio::ip::make_address("127.0.0.11"), proxy_port},
              {.behaviour = on_v4}),
          thread_([this] { ctx_.run(); }) {}
    ~proxies_on_thread() {
        ctx_.stop();
        thread_.join();
    }
    const proxy_server& v4() const { return v4_; }

  private:
    asio::io_context ctx_;
    proxy_server v6_;
    proxy_server v4_;
    std::thread thread_;
};

// The proxy's name on both addresses (hosts file), the addresses healthy.
void name_the_proxy() {
    auto& b = bench::get();
    b.configure({healthy("2001:db8::11"), healthy("127.0.0.11")});
    b.write_hosts("proxy.hd.test",
                  {asio::ip::make_address("2001:db8::11"), asio::ip::make_address("127.0.0.11")});
}

dial_options through_proxy() {
    dial_options options;
    options.proxy.emplace();
    options.proxy->host = "proxy.hd.test";
    options.proxy->port = std::to_string(proxy_port);
    return options;
}

}  // namespace

TEST_CASE(
    "proxy: the IPv6 proxy accepts TCP and never answers SOCKS5: the IPv4 proxy wins "
    "one attempt delay after the IPv6 connect",
    "[netns][proxy]") {
    name_the_proxy();
    proxies_on_thread proxies(proxy_behaviour::silent, proxy_behaviour::relay);
    // The origin is the bench's TCP server at 127.0.0.1, which the IPv4 proxy relays to.
    const auto r = dial_on_bench("localhost", through_proxy(), 5000ms);
    INFO(r.describe());
    REQUIRE(r.completed);
    REQUIRE_FALSE(r.error);
    CHECK(r.winner() == "127.0.0.11");
    CHECK(r.connected->port() == proxy_port);
    CHECK_WINDOW(r.elapsed_ms(), cad, cad + slack);
    REQUIRE(r.report.attempts.size() == 2);
    const auto& v6 = r.report.attempts[0];
    CHECK(v6.endpoint.address().to_string() == "2001:db8::11");
    CHECK(v6.tcp_connected);  // the TCP race alone would have kept this dead tunnel
    CHECK(v6.outcome == attempt_outcome::cancelled);
    REQUIRE(v6.stages.size() == 1);
    CHECK(v6.stages[0].name == "socks5");
    CHECK(v6.stages[0].error == asio::error::operation_aborted);
    const auto& v4 = r.report.attempts[1];
    CHECK(v4.outcome == attempt_outcome::won);
    REQUIRE(v4.stages.size() == 1);
    CHECK_FALSE(v4.stages[0].error);
    CHECK(proxies.v4().last_target() == "localhost:" + std::to_string(bench::port));
}

TEST_CASE("proxy: the IPv6 proxy refuses the target: the IPv4 proxy starts at once and wins",
          "[netns][proxy]") {
    name_the_proxy();
    proxies_on_thread proxies(proxy_behaviour::refuse, proxy_behaviour::relay);
    const auto r = dial_on_bench("localhost", through_proxy(), 5000ms);
    INFO(r.describe());
    REQUIRE(r.completed);
    REQUIRE_FALSE(r.error);
    CHECK(r.winner() == "127.0.0.11");
    CHECK_WINDOW(r.elapsed_ms(), 0, 10 + slack);  // the refusal, then the 10 ms floor at most
    REQUIRE(r.report.attempts.size() == 2);
    CHECK(r.report.attempts[0].error == socks5_reply::connection_refused);
    CHECK(r.report.attempts[0].outcome == attempt_outcome::failed);
}
