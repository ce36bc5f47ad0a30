#include "demo.hpp"
#include "timeline.hpp"

#include <happy_dial/happy_dial.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <optional>
#include <sstream>

namespace happy_dial::cli {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto demo_deadline = 3s;

bool can_bind(const asio::ip::address& address) {
    asio::io_context ctx;
    tcp::acceptor a(ctx);
    boost::system::error_code ec;
    a.open(tcp::endpoint(address, 0).protocol(), ec);
    if (!ec) {
        a.bind({address, 0}, ec);
    }
    return !ec;
}

// A listener whose accept queue is full: the kernel drops further SYNs silently, exactly like a
// firewall that black-holes a broken IPv6 path.
struct black_hole {
    black_hole(asio::io_context& ctx, const asio::ip::address& address)
        : acceptor(ctx, {address, 0}), filler(ctx) {
        acceptor.listen(0);
        filler.connect(acceptor.local_endpoint());
    }
    tcp::acceptor acceptor;
    tcp::socket filler;
};

std::string text(const tcp::endpoint& ep) {
    std::ostringstream os;
    os << ep;
    return os.str();
}

}  // namespace

int run_demo(std::ostream& os) {
    asio::io_context ctx;
    const bool ipv6 = can_bind(asio::ip::make_address("::1"));
    const auto hole_address = asio::ip::make_address(ipv6 ? "::1" : "127.0.0.2");

    tcp::acceptor listener(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    black_hole hole(ctx, hole_address);
    const std::vector<tcp::endpoint> targets{hole.acceptor.local_endpoint(),
                                             listener.local_endpoint()};

    os << "happy_dial demo: one host, two addresses, both on this machine\n";
    if (!ipv6) {
        os << "  (this machine has no IPv6 loopback: 127.0.0.2 plays the broken IPv6 address)\n";
    }
    os << "  " << text(targets[0]) << "  drops every SYN (a black-holed "
       << (ipv6 ? "IPv6" : "first") << " path)\n"
       << "  " << text(targets[1]) << "  accepts\n\n";

    // happy_dial: RFC 8305 racing with its default delays.
    dial_report report;
    dial_options options;
    options.report = &report;
    boost::system::error_code happy_result = asio::error::would_block;
    async_dial(ctx, targets, options, [&](boost::system::error_code ec, tcp::socket) {
        happy_result = ec;
    });

    // Plain sequential asio::async_connect over the same list, cut off by the demo's deadline.
    tcp::socket plain(ctx);
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::pair<tcp::endpoint, double>> plain_starts;
    std::optional<double> plain_end;
    boost::system::error_code plain_result = asio::error::would_block;
    asio::steady_timer deadline(ctx, demo_deadline);
    asio::async_connect(
        plain,
        targets,
        [&](const boost::system::error_code&, const tcp::endpoint& next) {
            plain_starts.emplace_back(next, to_ms(std::chrono::steady_clock::now() - start));
            return true;
        },
        [&](boost::system::error_code ec, const tcp::endpoint&) {
            plain_result = ec;
            plain_end = to_ms(std::chrono::steady_clock::now() - start);
            deadline.cancel();
        });
    deadline.async_wait([&](boost::system::error_code ec) {
        if (!ec) {
            plain.close();  // the demo gives up; a real client would wait ~127 s
        }
    });
    ctx.run();

    const double total = to_ms(std::chrono::nanoseconds(demo_deadline));
    os << "happy_dial::async_dial (RFC 8305, attempt delay 250 ms):\n";
    draw_timeline(os, rows_for(report), total);
    if (!happy_result) {
        const auto& w = report.attempts[*report.winner];
        os << "  -> connected to " << text(w.endpoint) << " after " << format_ms(to_ms(*w.ended))
           << " ms\n\n";
    } else {
        os << "  -> failed: " << happy_result.message() << "\n\n";
    }

    os << "asio::async_connect (sequential):\n";
    std::vector<timeline_row> plain_rows;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        timeline_row row;
        row.label = text(targets[i]);
        if (i < plain_starts.size()) {
            row.start_ms = plain_starts[i].second;
            const bool last = i + 1 == plain_starts.size();
            if (!last) {
                row.end_ms = plain_starts[i + 1].second;
                row.outcome = "failed";
            } else if (plain_result == asio::error::operation_aborted) {
                row.outcome = "still waiting when the demo's 3 s deadline cut it off";
            } else {
                row.end_ms = plain_end;
                row.outcome = plain_result ? plain_result.message() : "won";
            }
        } else {
            row.start_ms = -1;
            row.outcome = "never tried";
        }
        plain_rows.push_back(row);
    }
    draw_timeline(os, plain_rows, total);
    if (plain_result == asio::error::operation_aborted) {
        os << "  -> still connecting after 3 s; Linux gives up on the black hole after ~127 s\n";
    } else {
        os << "  -> " << (plain_result ? plain_result.message() : "connected") << "\n";
    }

    const bool as_expected = !happy_result && report.winner &&
                             report.attempts[*report.winner].endpoint == targets[1] &&
                             plain_result == asio::error::operation_aborted;
    return as_expected ? 0 : 1;
}

}  // namespace happy_dial::cli
