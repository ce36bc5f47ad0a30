#include "netns/scenario.hpp"
#include "support/process.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace happy_dial::netns {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

double offset_ms(std::chrono::steady_clock::time_point t,
                 std::chrono::steady_clock::time_point t0) {
    return ms(t - t0);
}

std::string fixed(double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f", v);
    return buf;
}

}  // namespace

double outcome::elapsed_ms() const {
    return ms(elapsed);
}

std::string outcome::winner() const {
    return connected ? connected->address().to_string() : "";
}

std::uint64_t outcome::syns_v6() const {
    std::uint64_t n = 0;
    for (const auto& [a, c] : syns) {
        n += a.is_v6() ? c : 0;
    }
    return n;
}

std::uint64_t outcome::syns_v4() const {
    std::uint64_t n = 0;
    for (const auto& [a, c] : syns) {
        n += a.is_v4() ? c : 0;
    }
    return n;
}

std::uint64_t outcome::syns_to(std::string_view address) const {
    auto it = syns.find(asio::ip::make_address(std::string(address)));
    return it == syns.end() ? 0 : it->second;
}

std::uint64_t outcome::queued_syns(bool v6) const {
    std::uint64_t n = 0;
    for (const auto& e : syn_log) {
        n += e.destination.is_v6() == v6 ? std::uint64_t{1} : std::uint64_t{0};
    }
    return n;
}

double outcome::first_syn_ms(std::string_view address) const {
    const auto a = asio::ip::make_address(std::string(address));
    for (const auto& e : syn_log) {
        if (e.destination == a) {
            return offset_ms(e.seen, started);
        }
    }
    return -1;
}

std::size_t outcome::dns_queries_of(std::uint16_t type) const {
    std::size_t n = 0;
    for (const auto& q : dns_queries) {
        n += q.type == type ? 1 : 0;
    }
    return n;
}

double outcome::answer_ms(address_family family) const {
    for (const auto& a : report.answers) {
        if (a.family == family) {
            return ms(a.at);
        }
    }
    return -1;
}

std::string outcome::describe() const {
    std::ostringstream os;
    os << "dial " << (completed ? "completed" : "DID NOT COMPLETE") << " after "
       << fixed(elapsed_ms()) << " ms: " << (error ? error.message() : "connected to " + winner())
       << "\n  report: error '" << report.error.message() << "', winner "
       << (report.winner ? std::to_string(*report.winner) : "none") << ", elapsed "
       << fixed(ms(report.elapsed)) << " ms\n";
    for (const auto& a : report.answers) {
        os << "  answer " << (a.family ? to_string(*a.family) : "direct") << " at "
           << fixed(ms(a.at)) << " ms: " << a.addresses << " addresses, " << a.accepted
           << " accepted" << (a.error ? ", error '" + a.error.message() + "'" : "") << "\n";
    }
    for (std::size_t i = 0; i < report.attempts.size(); ++i) {
        const auto& a = report.attempts[i];
        os << "  attempt #" << i << " " << a.endpoint << " started " << fixed(ms(a.started))
           << " ms, ended " << (a.ended ? fixed(ms(*a.ended)) + " ms" : "never") << ": "
           << core::to_string(a.outcome) << (a.error ? " ('" + a.error.message() + "')" : "")
           << "\n";
    }
    for (const auto& [address, count] : syns) {
        os << "  kernel: " << count << " SYN(s) to " << address << "\n";
    }
    for (const auto& e : syn_log) {
        os << "  SYN queue: to " << e.destination << " from port " << e.source_port << " at "
           << fixed(offset_ms(e.seen, started)) << " ms, released at "
           << fixed(offset_ms(e.released, started)) << " ms\n";
    }
    for (const auto& q : dns_queries) {
        os << "  DNS query "
           << (q.type == dns_server::type_aaaa ? "AAAA"
               : q.type == dns_server::type_a  ? "A"
                                               : std::to_string(q.type))
           << " " << q.name << " over " << to_string(q.transport) << " at "
           << fixed(offset_ms(q.at, started)) << " ms: " << to_string(q.outcome) << "\n";
    }
    return os.str();
}

outcome dial_on_bench(const std::string& host,
                      dial_options options,
                      milliseconds give_up,
                      const std::string& service) {
    auto& b = bench::get();
    outcome r;
    options.report = &r.report;
    asio::io_context ctx;
    b.reset_syns();
    r.started = std::chrono::steady_clock::now();
    happy_dial::async_dial(ctx,
                           host,
                           service.empty() ? std::to_string(bench::port) : service,
                           options,
                           [&](boost::system::error_code ec, tcp::socket socket) {
                               r.elapsed = std::chrono::steady_clock::now() - r.started;
                               r.completed = true;
                               r.error = ec;
                               boost::system::error_code ignored;
                               if (!ec) {
                                   r.connected = socket.remote_endpoint(ignored);
                               }
                           });
    ctx.run_for(give_up);  // bounded; a dial still running is a failure
    if (!r.completed) {
        r.elapsed = std::chrono::steady_clock::now() - r.started;
    }
    r.syns = b.syn_counts();
    r.syn_log = b.queue().log();
    r.dns_queries = b.dns().queries();
    return r;
}

outcome run(const std::string& title, scenario s) {
    auto& b = bench::get();
    std::vector<address_setup> all = s.ipv6;
    all.insert(all.end(), s.ipv4.begin(), s.ipv4.end());
    b.configure(all);

    std::vector<asio::ip::address> v6, v4, listed;
    for (const auto& a : s.ipv6) {
        v6.push_back(a.address);
    }
    for (const auto& a : s.ipv4) {
        v4.push_back(a.address);
    }
    if (s.source == name_source::hosts_file) {
        listed = v6;
        listed.insert(listed.end(), v4.begin(), v4.end());
        b.write_hosts(s.host, listed);
    } else {
        b.write_hosts("", {});
        b.dns().set(s.host,
                    dns_answer_script{v6, s.aaaa.delay, s.aaaa.lost},
                    dns_answer_script{v4, s.a.delay, s.a.lost});
    }

    outcome r;
    if (!s.command.empty()) {
        b.reset_syns();
        r.started = std::chrono::steady_clock::now();
        // The child inherits this namespace, its hosts file and resolv.conf.
        const auto result = happy_dial::test::run_command(s.command + " " + s.host + " " +
                                                          std::to_string(bench::port));
        r.elapsed = std::chrono::steady_clock::now() - r.started;
        r.completed = true;
        r.command_status = result.status;
        r.command_output = result.out;
        r.syns = b.syn_counts();
        r.syn_log = b.queue().log();
        r.dns_queries = b.dns().queries();
    } else {
        r = dial_on_bench(s.host, s.options, s.give_up);
    }

    std::cout << "[netns] " << title << ": " << fixed(r.elapsed_ms()) << " ms, "
              << (r.completed
                      ? (r.error ? "error '" + r.error.message() + "'" : "winner " + r.winner())
                      : "did not complete")
              << ", SYNs v6=" << r.syns_v6() << " v4=" << r.syns_v4() << "\n";
    if (const char* v = std::getenv("HAPPY_DIAL_NETNS_VERBOSE"); v && *v == '1') {
        std::cout << r.describe();
    }
    std::cout << std::flush;
    return r;
}

}  // namespace happy_dial::netns
