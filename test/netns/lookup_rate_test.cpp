// Lookups per second by name against the suite's DNS server, both resolver backends in the same
// run, and what one pending lookup costs (issue 13). Measurements with sanity checks, printed on
// "[resolver-scale]" lines for tools/measure/resolver-scale.sh; the lookups go through the
// public seam (system_network::async_lookup), without dials.
#include "catch.hpp"
#include "netns/bench.hpp"

#include <happy_dial/happy_dial.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <malloc.h>
#include <memory>
#include <string>
#include <vector>

using namespace happy_dial;
using namespace happy_dial::netns;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

constexpr std::size_t names = 1000;      // 2,000 lookups: AAAA and A of each
constexpr std::size_t in_flight = 100;   // kept pending at once
constexpr std::size_t pending_n = 1000;  // lookups held pending for the memory figure

std::size_t count_entries(const char* dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) {
        ++n;
    }
    return n;
}

lookup_query query_for(asio::io_context& ctx, std::size_t i, resolver_backend backend) {
    lookup_query q;
    q.host = "n" + std::to_string(i / 2) + ".rate.hd.test";
    q.service = std::to_string(bench::port);
    q.family = i % 2 == 0 ? address_family::ipv6 : address_family::ipv4;
    q.executor = ctx.get_executor();
    q.resolver = backend;
    return q;
}

// 2,000 lookups, `in_flight` at a time; returns lookups per second.
double lookup_rate(resolver_backend backend, std::size_t& answered) {
    asio::io_context ctx;
    resolver_settings settings;
    settings.backend = backend;
    configure_resolvers(ctx, settings);
    const std::size_t total = 2 * names;
    std::size_t started = 0;
    std::size_t completed = 0;
    answered = 0;
    // The system backend's lookups run on threads: nothing else keeps run_for() running.
    auto work = asio::make_work_guard(ctx);
    std::function<void()> start_one;
    start_one = [&] {
        const auto i = started++;
        system_network::instance()->async_lookup(
            query_for(ctx, i, backend), [&](core::resolution_answer a) {
                // system: a lookup thread; c-ares: the context's strand. Count on the context.
                asio::post(ctx, [&, ok = !a.error && !a.endpoints.empty()] {
                    answered += ok ? 1 : 0;
                    if (started < total) {
                        start_one();
                    }
                    if (++completed == total) {
                        ctx.stop();
                    }
                });
            });
    };
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t k = 0; k < in_flight; ++k) {
        start_one();
    }
    ctx.run_for(20s);  // bounded; 2,000 prompt lookups take well under a second
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    return static_cast<double>(answered) / took.count();
}

}  // namespace

TEST_CASE("lookups per second by name, both backends, and the cost of a pending lookup",
          "[netns][resolver]") {
    auto& b = bench::get();
    dns_answer_script aaaa;
    aaaa.addresses = {asio::ip::make_address("2001:db8::11")};
    dns_answer_script a;
    a.addresses = {asio::ip::make_address("127.0.0.11")};
    b.dns().set_pattern(".rate.hd.test", aaaa, a);
    dns_answer_script lost;
    lost.lost = true;
    b.dns().set_pattern(".lost.hd.test", lost, lost);

    for (const auto backend : {resolver_backend::system, resolver_backend::c_ares}) {
        std::size_t answered = 0;
        const double rate = lookup_rate(backend, answered);
        CHECK(answered == 2 * names);
        std::cout << "[resolver-scale] case=rate backend=" << to_string(backend)
                  << " lookups=" << answered << " in_flight=" << in_flight
                  << " lookups_per_s=" << static_cast<long>(rate) << "\n"
                  << std::flush;
    }

    // c-ares: heap and descriptors per pending lookup, measured while `pending_n` lookups of
    // names that are never answered wait; then all are cancelled and nothing may be left.
    const auto queries_before = b.dns().queries().size();
    const auto fds_before = count_entries("/proc/self/fd");
    std::size_t heap_before = 0;
    std::size_t heap_pending = 0;
    std::size_t fds_pending = 0;
    std::atomic<std::size_t> aborted{0};
    {
        asio::io_context ctx;
        heap_before = mallinfo2().uordblks;
        std::vector<std::unique_ptr<asio::cancellation_signal>> signals;
        for (std::size_t i = 0; i < pending_n; ++i) {
            signals.push_back(std::make_unique<asio::cancellation_signal>());
            auto q = query_for(ctx, 2 * i, resolver_backend::c_ares);
            q.host = "n" + std::to_string(i) + ".lost.hd.test";
            q.cancellation = signals.back()->slot();
            system_network::instance()->async_lookup(q, [&](core::resolution_answer answer) {
                aborted += answer.error == asio::error::operation_aborted ? 1 : 0;
            });
        }
        // Until the server saw every query (bounded: 2 s).
        for (int step = 0; step < 200 && b.dns().queries().size() < queries_before + pending_n;
             ++step) {
            ctx.run_for(10ms);
        }
        heap_pending = mallinfo2().uordblks;
        fds_pending = count_entries("/proc/self/fd");
        for (auto& s : signals) {
            s->emit(asio::cancellation_type::terminal);
        }
        ctx.run_for(2s);  // returns at once when nothing is left
        CHECK(ctx.stopped());
    }
    CHECK(aborted == pending_n);
    CHECK(count_entries("/proc/self/fd") == fds_before);  // every channel closed
    const double bytes_per_lookup =
        (static_cast<double>(heap_pending) - static_cast<double>(heap_before)) /
        static_cast<double>(pending_n);
    std::cout << "[resolver-scale] case=pending backend=c-ares lookups=" << pending_n
              << " heap_bytes_per_lookup=" << static_cast<long>(bytes_per_lookup)
              << " fds_per_lookup="
              << static_cast<double>(fds_pending - fds_before) / static_cast<double>(pending_n)
              << "\n"
              << std::flush;
}
