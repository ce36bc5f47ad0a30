#include "history/route_probe.hpp"

#include <happy_dial/core/destination_order.hpp>
#include <happy_dial/error.hpp>
#include <happy_dial/history.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace happy_dial {

using core::address_family;
using core::duration;
using core::time_point;
using ip_address = boost::asio::ip::address;

// The impl's own types: in a named namespace, since dial_history::impl (a member of a class
// with external linkage) holds them; its helper functions stay in an anonymous one.
namespace history_state {

struct address_state {
    ip_address address;
    address_outcome outcome = address_outcome::connected;
    time_point last_used{};
    std::optional<time_point> last_success;
    std::optional<duration> srtt;
    std::optional<duration> rttvar;
    unsigned failures = 0;
    time_point penalised_until{};
    // The route probe's answer, valid until the network changes (then everything is dropped).
    std::optional<ip_address> source;
    bool no_route = false;
};

struct destination {
    std::string partition;  // the key's strings, owned here; the index's key views them
    std::string host;
    unsigned short port = 0;
    std::vector<address_state> addresses;  // at most max_addresses, most recent last
    std::uint64_t dials = 0;
    std::optional<ip_address> winner;
    std::optional<time_point> winner_at;
};

// The index is looked up with the caller's history_key as it is: building one key string per
// lookup cost ~200 instructions, a third of the history's share of a healthy dial (callgrind).
// FNV-1a over both strings with a separator byte (so ("a", "bc") and ("ab", "c") differ) and
// the port; the index holds at most max_destinations entries, which bounds any collision chain.
struct key_hash {
    std::size_t operator()(const history_key& k) const noexcept {
        std::uint64_t h = 14695981039346656037ull;
        const auto mix = [&h](unsigned char c) {
            h ^= c;
            h *= 1099511628211ull;
        };
        for (const char c : k.partition) {
            mix(static_cast<unsigned char>(c));
        }
        mix(0xff);  // not a byte of UTF-8 text
        for (const char c : k.host) {
            mix(static_cast<unsigned char>(c));
        }
        mix(0xff);
        mix(static_cast<unsigned char>(k.port >> 8));
        mix(static_cast<unsigned char>(k.port & 0xff));
        return static_cast<std::size_t>(h);
    }
};

struct key_equal {
    bool operator()(const history_key& a, const history_key& b) const noexcept {
        return a.port == b.port && a.host == b.host && a.partition == b.partition;
    }
};

}  // namespace history_state

namespace {

using history_state::address_state;
using history_state::destination;
using history_state::key_equal;
using history_state::key_hash;

address_family family_of(const ip_address& a) noexcept {
    return a.is_v6() ? address_family::ipv6 : address_family::ipv4;
}

// RFC 6298 §2: the first sample sets SRTT = R, RTTVAR = R/2; later ones use alpha 1/8, beta 1/4.
void add_rtt_sample(address_state& s, duration r) {
    if (!s.srtt) {
        s.srtt = r;
        s.rttvar = r / 2;
        return;
    }
    const duration deviation = *s.srtt > r ? *s.srtt - r : r - *s.srtt;
    s.rttvar = (*s.rttvar * 3 + deviation) / 4;
    s.srtt = (*s.srtt * 7 + r) / 8;
}

// `winner_started`: when the winning attempt started (empty when the dial did not connect).
std::optional<address_outcome> outcome_of(const core::attempt_record& a,
                                          boost::system::error_code result,
                                          std::optional<time_point> winner_started) {
    namespace ae = boost::asio::error;
    switch (a.outcome) {
        case core::attempt_outcome::won:
            return address_outcome::connected;
        case core::attempt_outcome::timed_out:
            return address_outcome::timed_out;
        case core::attempt_outcome::failed:
            if (a.error == ae::connection_refused) {
                return address_outcome::refused;
            }
            if (a.error == ae::timed_out || a.error == error::attempt_timed_out) {
                return address_outcome::timed_out;
            }
            return address_outcome::unreachable;
        case core::attempt_outcome::cancelled:
            if (!result) {
                // Lost the race while still pending. Only an attempt that started no later
                // than the winner was beaten; one started after it just had less time.
                if (winner_started && a.started <= *winner_started) {
                    return address_outcome::slow;
                }
                return std::nullopt;
            }
            if (result == error::timed_out) {
                return address_outcome::timed_out;
            }
            return std::nullopt;  // the caller cancelled: nothing learned
        case core::attempt_outcome::pending:
            return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace

struct dial_history::impl {
    explicit impl(history_settings s) : settings(std::move(s)) {}

    history_settings settings;
    mutable std::mutex mutex;
    std::list<destination> lru;  // most recently used first
    // Keys view the strings of their destination (list nodes never move).
    std::unordered_map<history_key, std::list<destination>::iterator, key_hash, key_equal> index;
    std::uint64_t epoch = 0;
    std::optional<bool> ipv6_routable;

    destination* find(const history_key& key) {
        auto it = index.find(key);
        if (it == index.end()) {
            return nullptr;
        }
        lru.splice(lru.begin(), lru, it->second);  // most recently used
        return &*it->second;
    }

    destination& find_or_add(const history_key& key) {
        if (destination* d = find(key)) {
            return *d;
        }
        destination& d = lru.emplace_front();
        d.partition = key.partition;
        d.host = key.host;
        d.port = key.port;
        index.emplace(key_of(d), lru.begin());
        while (lru.size() > settings.max_destinations) {
            index.erase(key_of(lru.back()));
            lru.pop_back();
        }
        return d;
    }

    static history_key key_of(const destination& d) noexcept {
        return {d.partition, d.host, d.port};
    }

    address_state& state_of(destination& d, const ip_address& a) {
        auto it = std::find_if(d.addresses.begin(), d.addresses.end(), [&](const address_state& s) {
            return s.address == a;
        });
        if (it != d.addresses.end()) {
            return *it;
        }
        if (d.addresses.size() >= settings.max_addresses) {
            // Evict the least recently used address.
            auto oldest = std::min_element(
                d.addresses.begin(), d.addresses.end(), [](const auto& x, const auto& y) {
                    return x.last_used < y.last_used;
                });
            d.addresses.erase(oldest);
        }
        address_state fresh;
        fresh.address = a;
        d.addresses.push_back(fresh);
        return d.addresses.back();
    }

    duration penalty(unsigned failures) const {
        duration p = settings.failure_penalty;
        const duration cap = settings.max_failure_penalty;
        for (unsigned i = 1; i < failures && p < cap; ++i) {
            p *= 2;
        }
        return std::min(p, cap);
    }

    core::address_hint hint_of(const address_state& s, time_point now, bool with_history) const {
        core::address_hint h;
        h.address = s.address;
        h.source = s.source;
        h.no_route = s.no_route;
        if (!with_history) {
            return h;
        }
        h.penalised = s.failures > 0 && now < s.penalised_until;
        const bool remembered =
            s.last_success && now - *s.last_success < duration(settings.success_lifetime);
        if (remembered) {
            h.used_before = true;
            h.rtt = s.srtt;
            if (s.srtt) {
                h.attempt_delay =
                    core::attempt_delay_from_rtt(*s.srtt, *s.rttvar, settings.min_attempt_delay);
            }
        }
        return h;
    }
};

boost::system::error_code validate(const history_settings& s) {
    using std::chrono::milliseconds;
    const auto day = milliseconds(std::chrono::hours(24));
    const bool bad = s.max_destinations == 0 || s.max_addresses == 0 ||
                     s.success_lifetime <= milliseconds(0) || s.success_lifetime > day ||
                     s.failure_penalty <= milliseconds(0) || s.failure_penalty > day ||
                     s.max_failure_penalty < s.failure_penalty || s.max_failure_penalty > 7 * day ||
                     s.min_attempt_delay < milliseconds(10) ||
                     s.min_attempt_delay > milliseconds(2000);
    return bad ? make_error_code(error::invalid_history_settings) : boost::system::error_code{};
}

const char* to_string(address_outcome o) noexcept {
    switch (o) {
        case address_outcome::connected:
            return "connected";
        case address_outcome::refused:
            return "refused";
        case address_outcome::unreachable:
            return "unreachable";
        case address_outcome::timed_out:
            return "timed out";
        case address_outcome::slow:
            return "slow";
    }
    return "unknown";
}

dial_history::dial_history(history_settings settings) {
    if (const auto ec = validate(settings)) {
        throw boost::system::system_error(ec);
    }
    impl_ = std::make_unique<impl>(std::move(settings));
}

dial_history::~dial_history() = default;

core::dial_hints dial_history::hints(time_point now, const history_key& key, history_use* use) {
    core::dial_hints hints;
    hints.sort = true;
    std::lock_guard lock(impl_->mutex);
    destination& d = impl_->find_or_add(key);
    ++d.dials;
    const unsigned one_in = impl_->settings.explore_one_in;
    const bool explore = one_in != 0 && d.dials % one_in == 0;
    hints.addresses.reserve(d.addresses.size());
    std::size_t penalised = 0;
    for (const auto& s : d.addresses) {
        hints.addresses.push_back(impl_->hint_of(s, now, !explore));
        penalised += hints.addresses.back().penalised ? 1u : 0u;
    }
    if (use != nullptr) {
        use->epoch = impl_->epoch;
        use->explored = explore;
        use->hints = explore ? 0 : hints.addresses.size();
        use->penalised = penalised;
    }
    return hints;
}

std::size_t dial_history::record(time_point now,
                                 const history_key& key,
                                 const core::dial_trace& trace,
                                 boost::system::error_code result,
                                 const std::vector<core::address_hint>& probed,
                                 std::optional<std::uint64_t> epoch) {
    std::lock_guard lock(impl_->mutex);
    if (epoch && *epoch != impl_->epoch) {
        return 0;  // the network changed during the dial: what it saw is of the old network
    }
    destination& d = impl_->find_or_add(key);
    for (const auto& p : probed) {
        address_state& s = impl_->state_of(d, p.address);
        s.source = p.source;
        s.no_route = p.no_route;
        if (s.last_used == time_point{}) {
            s.last_used = now;
        }
    }
    std::optional<time_point> winner_started;
    for (const auto& a : trace.attempts) {
        if (a.outcome == core::attempt_outcome::won) {
            winner_started = a.started;
        }
    }
    std::size_t updated = 0;
    for (const auto& a : trace.attempts) {
        const auto outcome = outcome_of(a, result, winner_started);
        if (!outcome) {
            continue;
        }
        address_state& s = impl_->state_of(d, a.target.address());
        s.outcome = *outcome;
        s.last_used = now;
        ++updated;
        if (*outcome == address_outcome::connected) {
            // The TCP phase only: a handshake stage's time is the server's, not the path's.
            add_rtt_sample(s, a.connected.value_or(a.ended.value_or(now)) - a.started);
            s.last_success = now;
            s.failures = 0;
            d.winner = s.address;
            d.winner_at = now;
        } else {
            ++s.failures;
            s.penalised_until = now + impl_->penalty(s.failures);
        }
    }
    return updated;
}

std::optional<history_entry> dial_history::find(const history_key& key,
                                                const ip_address& address) const {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->index.find(key);
    if (it == impl_->index.end()) {
        return std::nullopt;
    }
    for (const auto& s : it->second->addresses) {
        if (s.address == address && s.last_used != time_point{}) {
            return history_entry{
                s.address, s.outcome, s.last_used, s.srtt, s.rttvar, s.failures, s.penalised_until};
        }
    }
    return std::nullopt;
}

std::optional<ip_address> dial_history::last_winner(const history_key& key, time_point now) const {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->index.find(key);
    if (it == impl_->index.end() || !it->second->winner_at ||
        now - *it->second->winner_at >= duration(impl_->settings.success_lifetime)) {
        return std::nullopt;
    }
    return it->second->winner;
}

std::optional<address_family> dial_history::last_winning_family(const history_key& key,
                                                                time_point now) const {
    const auto winner = last_winner(key, now);
    return winner ? std::optional(family_of(*winner)) : std::nullopt;
}

bool dial_history::ipv6_routable() {
    if (!impl_->settings.probe_routes) {
        return true;
    }
    std::uint64_t epoch = 0;
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->ipv6_routable) {
            return *impl_->ipv6_routable;
        }
        epoch = impl_->epoch;
    }
    const bool routable =
        detail::probe_source(ip_address(impl_->settings.ipv6_probe_address)).has_value();
    std::lock_guard lock(impl_->mutex);
    if (impl_->epoch == epoch) {  // a network change during the probe: probe again next time
        impl_->ipv6_routable = routable;
    }
    return routable;
}

void dial_history::clear() {
    std::lock_guard lock(impl_->mutex);
    impl_->index.clear();
    impl_->lru.clear();
}

void dial_history::network_changed() {
    std::lock_guard lock(impl_->mutex);
    impl_->index.clear();
    impl_->lru.clear();
    impl_->ipv6_routable.reset();
    ++impl_->epoch;
}

std::uint64_t dial_history::epoch() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->epoch;
}

std::size_t dial_history::size() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->lru.size();
}

const history_settings& dial_history::settings() const noexcept {
    return impl_->settings;
}

}  // namespace happy_dial
