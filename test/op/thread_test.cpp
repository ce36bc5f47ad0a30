// Many dials on an io_context run by several threads (run under TSan in CI).
#include "catch.hpp"
#include "op/loopback.hpp"

#include <happy_dial/happy_dial.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using namespace happy_dial;
using namespace happy_dial::test;

namespace {

// One observer for every dial (issue 17): per dial, attempts still open when dial_done comes
// would mean calls out of order; several threads call it at once, hence the mutex.
struct ordering_observer final : dial_observer {
    std::mutex mutex;
    std::map<std::uintptr_t, int> open;  // attempts started and not ended, per dial in flight
    int done = 0;
    int started = 0;
    int out_of_order = 0;
    void attempt_started(const dial_event& e, std::size_t, const attempt_report&) override {
        std::lock_guard lock(mutex);
        ++open[e.dial];
        ++started;
    }
    void attempt_ended(const dial_event& e, std::size_t, const attempt_report&) override {
        std::lock_guard lock(mutex);
        if (--open[e.dial] < 0) {
            ++out_of_order;
        }
    }
    void dial_done(const dial_event& e, const dial_report&) override {
        std::lock_guard lock(mutex);
        if (open[e.dial] != 0) {
            ++out_of_order;
        }
        open.erase(e.dial);  // the id may be reused by a later dial
        ++done;
    }
};

}  // namespace

TEST_CASE("threads: 1000 concurrent dials on 4 threads each complete exactly once",
          "[op][threads]") {
    accepting_listener ok(loopback_v4);
    refusing_port refused(loopback_v4);
    black_hole hole(loopback_v4);
    constexpr int dials = 1000;
    const int fds = open_fd_count();
    std::atomic<int> completions{0}, successes{0}, aborted{0};
    std::vector<std::atomic<int>> per_dial(dials);
    auto observer = std::make_shared<ordering_observer>();
    {
        asio::io_context ctx(4);
        std::vector<std::unique_ptr<asio::cancellation_signal>> signals;
        std::vector<std::vector<tcp::endpoint>> targets{
            {refused.endpoint(), ok.endpoint()},
            {hole.endpoint(), ok.endpoint()},
            {ok.endpoint()},
        };
        dial_options options;
        options.connection_attempt_delay = std::chrono::milliseconds(10);
        options.observer = observer;
        for (std::size_t i = 0; i < dials; ++i) {
            // The dial runs on its own strand; cancellation is emitted from that strand too.
            auto strand = asio::make_strand(ctx);
            auto& signal = *signals.emplace_back(std::make_unique<asio::cancellation_signal>());
            async_dial(strand,
                       targets[i % targets.size()],
                       options,
                       asio::bind_cancellation_slot(
                           signal.slot(), [&, i](boost::system::error_code ec, tcp::socket) {
                               ++per_dial[i];
                               ++completions;
                               if (!ec) {
                                   ++successes;
                               } else if (ec == asio::error::operation_aborted) {
                                   ++aborted;
                               }
                           }));
            if (i % 7 == 0) {
                asio::post(strand, [&signal, &per_dial, i] {
                    if (per_dial[i] == 0) {
                        signal.emit(asio::cancellation_type::terminal);
                    }
                });
            }
        }
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&ctx] { ctx.run(); });
        }
        for (auto& t : threads) {
            t.join();
        }
    }
    CHECK(completions == dials);
    for (auto& n : per_dial) {
        REQUIRE(n == 1);
    }
    CHECK(successes + aborted == dials);
    CHECK(aborted > 0);
    CHECK(open_fd_count() == fds);
    // One observer shared by the 1,000 dials saw each end after its attempts' ends.
    CHECK(observer->done == dials);
    CHECK(observer->started >= dials);
    CHECK(observer->out_of_order == 0);
    CHECK(observer->open.empty());
}
