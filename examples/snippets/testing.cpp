// The C++ blocks of docs/testing.md. Each block is the text between `// [snippet:NAME]` and
// `// [/snippet:NAME]` below, copied verbatim (test/docs/check_snippets.cmake compares them);
// the doc_snippets target compiles this file (test/docs/CMakeLists.txt) with test/ on the
// include path, since the blocks use the test suite's own helpers. Edit here first.
#include "catch.hpp"
#include "unit/engine_harness.hpp"

#include <happy_dial/happy_dial.hpp>
#include <happy_dial/testing/mock_network.hpp>

#include <boost/asio/io_context.hpp>

#include <functional>
#include <vector>

namespace fake_clock {
using namespace happy_dial::core;
using namespace happy_dial::test;

void example() {
    // [snippet:unit]
    dial_engine e{{}};
    e.start(t(0), {address_family::ipv6, address_family::ipv4});
    e.on_answer(t(5), aaaa({ep("2001:db8::1")}));
    CHECK(drain(e) == std::vector<action>{start_attempt{0, ep("2001:db8::1")}});
    // [/snippet:unit]
}
}  // namespace fake_clock

namespace mock_kit {
using namespace happy_dial;
using namespace happy_dial::testing;
using core::address_family;

void example(boost::asio::io_context& ctx,
             std::function<void(boost::system::error_code, boost::asio::ip::tcp::socket)> handler) {
    // [snippet:mock_network]
    auto net = happy_dial::testing::mock_network::create(ctx.get_executor());
    net->answer("svc.test", address_family::ipv6, {"2001:db8::1"}, 300ms);  // AAAA late
    net->answer("svc.test", address_family::ipv4, {"192.0.2.1"});           // A at once
    net->endpoint("2001:db8::1", 443, behaviour::connects);
    net->endpoint("192.0.2.1", 443, behaviour::connects);
    async_dial(ctx, "svc.test", "443", net->options(), handler);  // IPv4 after 50 ms
    // [/snippet:mock_network]
}
}  // namespace mock_kit
