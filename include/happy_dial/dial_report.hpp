// What a dial did: every resolution answer and every attempt, for callers and tools.
#pragma once

#include <happy_dial/core/nat64.hpp>
#include <happy_dial/core/svcb.hpp>
#include <happy_dial/core/trace.hpp>
#include <happy_dial/core/types.hpp>
#include <happy_dial/history.hpp>
#include <happy_dial/resolver.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace happy_dial {

using core::address_family;
using core::attempt_outcome;
using core::delay_source;
using core::endpoint_fate;

/// One stage an attempt finished after its TCP connect (a proxy handshake, TLS).
struct stage_report {
    std::string name;                     ///< handshake_stage::name(): "socks5", "tls", ...
    std::chrono::nanoseconds finished{};  ///< when it ended, from the start of the dial
    boost::system::error_code error;      ///< empty: it succeeded; operation_aborted: cancelled
};

/// One connection attempt. Times are offsets from the start of the dial.
struct attempt_report {
    boost::asio::ip::tcp::endpoint endpoint;             ///< the address and port attempted
    std::chrono::nanoseconds started{};                  ///< when the attempt started
    std::optional<std::chrono::nanoseconds> ended;       ///< empty while pending
    attempt_outcome outcome = attempt_outcome::pending;  ///< how it ended
    boost::system::error_code error;                     ///< the attempt's own error
    /// The delay planned before the next attempt when this one started (RFC 8305 §5), and
    /// where it came from: the options, the address's history, the deadline or the 10 ms floor.
    std::chrono::nanoseconds delay{};
    delay_source delay_from = delay_source::configured;  ///< why `delay` has its value
    /// The attempt socket's own address and port (getsockname() once connect() was issued);
    /// empty when unknown (a custom transport that opens no real connection).
    std::optional<boost::asio::ip::tcp::endpoint> local{};
    /// With a handshake stage (dial_options::handshake): when the TCP connect completed and the
    /// stage began. An attempt that ended with this set and an error failed in its stage (the
    /// error says how: a TLS alert, error::handshake_timed_out, ...); without it, in TCP.
    std::optional<std::chrono::nanoseconds> tcp_connected{};
    /// The stages that ended, in order (a proxy's handshake, then TLS): which one failed and
    /// with what. Filled for dial_report and the observer's attempt_ended.
    std::vector<stage_report> stages{};
    /// Set when `endpoint` is a NAT64 address the dial made (RFC 6052): the IPv4 address it
    /// stands for.
    std::optional<boost::asio::ip::address_v4> nat64_from{};
    /// The address came from an HTTPS record's hint (RFC 9460 §7.3), not from an A/AAAA answer.
    bool from_hint = false;
};

/// One endpoint of an answer and what became of it.
struct endpoint_report {
    boost::asio::ip::tcp::endpoint endpoint;     ///< the address and port
    endpoint_fate fate = endpoint_fate::queued;  ///< attempted, never tried, filtered, ...
    std::optional<std::size_t> attempt{};        ///< index into dial_report::attempts
    /// Set when this is a NAT64 address the dial made: the IPv4 address it stands for.
    std::optional<boost::asio::ip::address_v4> nat64_from{};
    /// It came from an HTTPS record's hint (its answer is the hints' one, with no family).
    bool from_hint = false;
};

/// One resolution answer. `family` is empty for endpoints given directly (ranges, literals).
struct answer_report {
    std::optional<address_family> family;  ///< AAAA (ipv6), A (ipv4), or empty
    std::chrono::nanoseconds at{};         ///< when it arrived
    std::size_t addresses = 0;             ///< addresses in the answer
    std::size_t accepted = 0;         ///< of those, new and allowed (not filtered, not excluded)
    boost::system::error_code error;  ///< the lookup's error (empty for a positive answer)
    std::optional<std::chrono::seconds> ttl{};  ///< smallest TTL of the records (c-ares only)
    /// Every endpoint of the answer, in the order the engine considered them (RFC 6724 order
    /// with a history), with its fate.
    std::vector<endpoint_report> endpoints{};
};

/// The record of one dial, available on success and on failure.
struct dial_report {
    boost::system::error_code error;       ///< the dial's result
    std::optional<std::size_t> winner;     ///< index into `attempts` of the connection returned
    std::chrono::nanoseconds elapsed{};    ///< from the start of the dial to its completion
    std::vector<answer_report> answers;    ///< every resolution answer, in arrival order
    std::vector<attempt_report> attempts;  ///< every attempt, in start order
    /// The resolver that answered the lookups and why it was chosen; empty when the dial
    /// looked nothing up or its transport is not the system network.
    std::optional<resolver_choice> resolver{};
    /// What the dial took from its dial_history and gave back; empty without a history.
    std::optional<history_use> history{};
    /// The winner's family is not the configured preferred one (IPv4 won under prefer_ipv6,
    /// the default) although the preferred family had an address to try: the fallback the
    /// dial exists for happened. False on failure and for the single-family policies.
    bool non_preferred_family_won = false;
    /// The NAT64 prefixes the dial synthesized addresses with (nat64_mode::automatic on an
    /// IPv6-only network); empty when it made none.
    std::vector<core::nat64_prefix> nat64_prefixes{};
    /// With dial_options::https_records: every HTTPS record received (AliasMode ones and the
    /// records of their targets included), in arrival order.
    std::vector<core::service_record> service_records{};
};

/// One answer of the engine's trace as reported (times relative to `dial_started`); its
/// `endpoints` are left empty (make_report fills them).
answer_report make_answer_report(const core::answer_record& a, core::time_point dial_started);

/// One attempt of the engine's trace as reported (times relative to `dial_started`).
attempt_report make_attempt_report(const core::attempt_record& a, core::time_point dial_started);

/// Converts the engine's trace into a report (times relative to the trace's start).
dial_report make_report(const core::dial_trace& trace,
                        core::time_point finished,
                        boost::system::error_code error,
                        std::optional<std::size_t> winner);

}  // namespace happy_dial
