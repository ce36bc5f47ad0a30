// Metrics from a dial_observer (issue 17): counters and histograms named after the
// OpenTelemetry semantic conventions, kept without an OpenTelemetry dependency and printed as
// text, one line per series. A real exporter would map each onto its SDK's instrument.
// The program dials loopback only: an accepting listener per family and a refusing port.
#include <happy_dial/happy_dial.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace happy_dial;

namespace {

// A series is named `name{k="v",...}`, rendered once: the map key and its exposition at once.
std::string series(const std::string& name,
                   std::initializer_list<std::pair<std::string, std::string>> attributes) {
    std::string out = name + "{";
    for (const auto& [key, value] : attributes) {
        out += (out.back() == '{' ? "" : ",") + key + "=\"" + value + "\"";
    }
    return out + "}";
}

// Explicit buckets in seconds, from a loopback connect (~0.1 ms) to a slow dial.
struct histogram {
    static constexpr std::array<double, 7> bounds{0.001, 0.005, 0.025, 0.1, 0.25, 1, 5};
    std::array<std::uint64_t, bounds.size() + 1> buckets{};  // the last one is +Inf
    std::uint64_t count = 0;
    double sum = 0;

    void record(std::chrono::nanoseconds d) {
        const double s = std::chrono::duration<double>(d).count();
        ++buckets[static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), s) -
                                           bounds.begin())];  // the first bound >= s
        ++count;
        sum += s;
    }
};

const char* network_type(const tcp::endpoint& ep) {
    return ep.address().is_v6() ? "ipv6" : "ipv4";
}

// Attribute values are identifiers: "timed out" (core::to_string, for people) is timed_out.
std::string outcome_id(attempt_outcome o) {
    std::string id = core::to_string(o);
    std::replace(id.begin(), id.end(), ' ', '_');
    return id;
}

// error.type must stay low-cardinality: the error's category and code ("asio.netdb:1" is
// host not found), never its message.
std::string error_type(const boost::system::error_code& ec) {
    return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

// Dials on several threads share one observer, so every call takes the lock; each call does
// a few map updates and never blocks otherwise, as the observer contract asks.
class metrics_observer final : public dial_observer {
  public:
    // The fallback counter is shown even at zero: "no fallback" is an answer too.
    metrics_observer() { counters_[series("happy_dial.fallback", {})] = 0; }

    void lookup_sent(const dial_event& e, address_family family) override {
        const std::lock_guard lock(mutex_);
        sent_[{e.dial, family}] = e.at;
    }
    void answer_received(const dial_event& e, const answer_report& answer) override {
        if (!answer.family) {
            return;  // endpoints given directly: nothing was looked up
        }
        const std::lock_guard lock(mutex_);
        const auto sent = sent_.find({e.dial, *answer.family});
        if (sent == sent_.end()) {
            return;
        }
        const std::string type = *answer.family == address_family::ipv6 ? "AAAA" : "A";
        const auto name =
            answer.error
                ? series("dns.lookup.duration",
                         {{"dns.question.type", type}, {"error.type", error_type(answer.error)}})
                : series("dns.lookup.duration", {{"dns.question.type", type}});
        histograms_[name].record(e.at - sent->second);
        sent_.erase(sent);
    }
    void attempt_ended(const dial_event&, std::size_t, const attempt_report& a) override {
        const std::lock_guard lock(mutex_);
        ++counters_[series("happy_dial.connection.attempts",
                           {{"network.type", network_type(a.endpoint)},
                            {"happy_dial.attempt.outcome", outcome_id(a.outcome)}})];
    }
    void dial_done(const dial_event& e, const dial_report& report) override {
        const std::lock_guard lock(mutex_);
        // A lookup the dial outlived never gets an answer; forget it, since dial ids are
        // reused once a dial is over.
        std::erase_if(sent_, [&](const auto& s) { return s.first.first == e.dial; });
        if (report.winner) {
            const auto& peer = report.attempts[*report.winner].endpoint;
            histograms_[series("happy_dial.connection.duration",
                               {{"network.type", network_type(peer)},
                                {"network.peer.address", peer.address().to_string()}})]
                .record(report.elapsed);
        }
        if (report.non_preferred_family_won) {
            ++counters_[series("happy_dial.fallback", {})];
        }
    }

    // One line per series: `name{attrs} value`; a histogram's value is its count, sum (s)
    // and cumulative bucket counts (le=bound:count; +Inf is the count).
    void print(std::ostream& os) const {
        const std::lock_guard lock(mutex_);
        for (const auto& [name, value] : counters_) {
            os << name << " " << value << "\n";
        }
        for (const auto& [name, h] : histograms_) {
            os << name << " count=" << h.count << " sum=" << h.sum << " le=";
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < histogram::bounds.size(); ++i) {
                cumulative += h.buckets[i];
                os << (i ? "," : "") << histogram::bounds[i] << ":" << cumulative;
            }
            os << "\n";
        }
    }

  private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::uintptr_t, address_family>, std::chrono::nanoseconds> sent_;
    std::map<std::string, std::uint64_t> counters_;
    std::map<std::string, histogram> histograms_;
};

}  // namespace

int main() {
    asio::io_context ctx;
    const auto v4 = asio::ip::make_address("127.0.0.1");
    const auto v6 = asio::ip::make_address("::1");
    // Accepting listeners: the kernel completes handshakes, nobody needs to accept. ::1 takes
    // 127.0.0.1's port when it can, so "localhost" finds a listener in either family.
    tcp::acceptor ok4(ctx, {v4, 0});
    std::optional<tcp::acceptor> ok6;
    for (const unsigned short port :
         {ok4.local_endpoint().port(), static_cast<unsigned short>(0)}) {
        try {
            ok6.emplace(ctx, tcp::endpoint(v6, port));
            break;
        } catch (const boost::system::system_error&) {  // no ::1 (or the port is taken)
        }
    }
    // Bound, not listening: SYNs get a RST. On ::1 when it exists, so the preferred family
    // (IPv6) fails first and IPv4 wins: the fallback the counter counts.
    tcp::acceptor refusing(ctx);
    const tcp::endpoint refusing_at(ok6 ? v6 : v4, 0);
    refusing.open(refusing_at.protocol());
    refusing.bind(refusing_at);

    // What each dial is given; no endpoints: "localhost", by name through /etc/hosts, the only
    // dial that feeds dns.lookup.duration.
    const auto refused = refusing.local_endpoint();
    const auto accepting4 = ok4.local_endpoint();
    const std::vector<std::pair<std::string, std::vector<tcp::endpoint>>> dials{
        {"refused, then accepted", {refused, accepting4}},
        {"refused, then accepted", {refused, accepting4}},
        {"both accept", {ok6 ? ok6->local_endpoint() : accepting4, accepting4}},
        {"refused only", {refused}},
        {"localhost", {}},
    };
    const auto metrics = std::make_shared<metrics_observer>();
    dial_options options;
    options.observer = metrics;
    options.timeout = std::chrono::seconds(5);  // a bound even if a lookup never answers
    std::vector<std::string> results(dials.size());
    for (std::size_t i = 0; i < dials.size(); ++i) {
        auto done = [&results, i](boost::system::error_code ec, tcp::socket s) {
            std::ostringstream os;
            if (ec) {
                os << "failed: " << ec.message();
            } else {
                os << "connected to " << s.remote_endpoint();
            }
            results[i] = os.str();  // one slot per dial: no two handlers share one
        };
        if (dials[i].second.empty()) {
            async_dial(ctx, "localhost", std::to_string(accepting4.port()), options, done);
        } else {
            async_dial(ctx, dials[i].second, options, done);
        }
    }

    // Two threads run the dials at once: the observer is called from both.
    std::thread helper([&ctx] { ctx.run(); });
    ctx.run();
    helper.join();

    for (std::size_t i = 0; i < dials.size(); ++i) {
        std::cout << "dial " << (i + 1) << " (" << dials[i].first << "): " << results[i] << "\n";
    }
    metrics->print(std::cout);
    return 0;
}
