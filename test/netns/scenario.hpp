// One scenario: a name, its addresses with their impairments, how the name resolves, the dial
// options; and what happened, measured by the test and by the kernel.
#pragma once

#include "netns/bench.hpp"

#include <happy_dial/happy_dial.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace happy_dial::netns {

using std::chrono::milliseconds;

/// How the scenario's name is resolved inside the namespace.
enum class name_source {
    hosts_file,  ///< /etc/hosts (answers at once)
    dns,         ///< the scripted DNS server (per-family delay or loss)
};

/// When the DNS server answers one record type (name_source::dns only).
struct answer_timing {
    milliseconds delay{0};
    bool lost = false;  ///< never answered (glibc gives up after 1 s: see resolv.conf)
};
inline answer_timing answered_after(milliseconds d) {
    return {d, false};
}
inline answer_timing never_answered() {
    return {milliseconds(0), true};
}

struct scenario {
    std::string host;                 ///< e.g. "dual.hd.test"
    std::vector<address_setup> ipv6;  ///< the AAAA answer, in order
    std::vector<address_setup> ipv4;  ///< the A answer, in order
    name_source source = name_source::hosts_file;
    answer_timing aaaa;          ///< DNS only
    answer_timing a;             ///< DNS only
    dial_options options;        ///< report is filled in by run()
    milliseconds give_up{5000};  ///< the test stops waiting for the dial after this
    /// When set, this command line (e.g. the happy-dial tool with its flags) dials instead of
    /// async_dial in-process, with "HOST PORT" appended; its output lands in the outcome.
    std::string command;
};

/// Everything measured during one dial.
struct outcome {
    bool completed = false;
    boost::system::error_code error;
    std::optional<boost::asio::ip::tcp::endpoint> connected;  ///< remote endpoint of the socket
    std::chrono::nanoseconds elapsed{};  ///< measured by the test around async_dial
    dial_report report;
    std::map<boost::asio::ip::address, std::uint64_t> syns;  ///< nftables counters
    std::vector<syn_queue::entry> syn_log;                   ///< SYN queue, in order
    std::vector<dns_server::query> dns_queries;
    std::chrono::steady_clock::time_point started;
    int command_status = -1;     ///< exit status of scenario::command
    std::string command_output;  ///< what scenario::command printed on stdout

    double elapsed_ms() const;
    /// The connected address as a string, "" on failure.
    std::string winner() const;
    /// Kernel-counted SYNs to addresses of one family / to one address.
    std::uint64_t syns_v6() const;
    std::uint64_t syns_v4() const;
    std::uint64_t syns_to(std::string_view address) const;
    /// SYNs logged by the SYN queue for one family (a cross-check of the counters).
    std::uint64_t queued_syns(bool v6) const;
    /// When the first SYN to `address` left, in ms after the dial started (-1: none).
    double first_syn_ms(std::string_view address) const;
    /// Offset in ms of the first answer of `family` in the report (-1: none yet).
    double answer_ms(address_family family) const;
    /// DNS queries of one type (28 AAAA, 1 A) the suite's server received during the dial.
    std::size_t dns_queries_of(std::uint16_t type) const;

    /// The whole record: answers, attempts, SYNs and DNS queries, for failure messages.
    std::string describe() const;
};

/// Runs the scenario on the bench and returns what happened. Prints a one-line summary.
outcome run(const std::string& title, scenario s);

/// One in-process dial of `host` on the bench as it is configured now (addresses, hosts file,
/// DNS scripts), with the bench's records; gives up after `give_up`. `service` defaults to the
/// bench's port.
outcome dial_on_bench(const std::string& host,
                      dial_options options,
                      milliseconds give_up,
                      const std::string& service = {});

/// Checks lower <= value <= upper (ms), naming the expression and the window on failure.
#define CHECK_WINDOW(value, lower, upper)                                                    \
    do {                                                                                     \
        const double v_ = (value);                                                           \
        INFO(#value " = " << v_ << " ms, window [" << (lower) << ", " << (upper) << "] ms"); \
        CHECK(v_ >= (lower));                                                                \
        CHECK(v_ <= (upper));                                                                \
    } while (false)

/// The dial completed without error, connected to `address` (a Catch2 REQUIRE/CHECK).
#define REQUIRE_WINNER(r, address)       \
    do {                                 \
        const auto& r_ = (r);            \
        INFO(r_.describe());             \
        REQUIRE(r_.completed);           \
        REQUIRE_FALSE(r_.error);         \
        CHECK(r_.winner() == (address)); \
    } while (false)

/// Milliseconds of a report offset.
inline double ms(std::chrono::nanoseconds d) {
    return static_cast<double>(d.count()) / 1e6;
}

}  // namespace happy_dial::netns
