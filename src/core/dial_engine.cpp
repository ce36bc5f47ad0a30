#include <happy_dial/core/destination_order.hpp>
#include <happy_dial/core/dial_engine.hpp>
#include <happy_dial/error.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <utility>

namespace happy_dial::core {
namespace {

int index(address_family f) noexcept {
    return static_cast<int>(f);
}

address_family other(address_family f) noexcept {
    return f == address_family::ipv6 ? address_family::ipv4 : address_family::ipv6;
}

address_family preferred_family(family_preference p) noexcept {
    return p == family_preference::prefer_ipv4 || p == family_preference::ipv4_only
               ? address_family::ipv4
               : address_family::ipv6;
}

bool family_allowed(family_preference p, address_family f) noexcept {
    switch (p) {
        case family_preference::ipv6_only:
            return f == address_family::ipv6;
        case family_preference::ipv4_only:
            return f == address_family::ipv4;
        default:
            return true;
    }
}

}  // namespace

dial_engine::dial_engine(engine_config config)
    : config_(normalize(std::move(config))),
      preferred_(preferred_family(config_.preference)),
      queue_(preferred_, config_.first_address_family_count) {}

void dial_engine::set_hints(dial_hints hints) {
    if (started_) {
        return;
    }
    hints_ = std::move(hints);
    // Addresses are unique per destination: an unstable sort (no temporary buffer) is enough.
    if (hints_.addresses.size() > 1) {
        std::sort(
            hints_.addresses.begin(),
            hints_.addresses.end(),
            [](const address_hint& a, const address_hint& b) { return a.address < b.address; });
    }
    if (config_.preference == family_preference::prefer_ipv4) {
        explicit_first_ = address_family::ipv4;
    }
    const bool both = config_.preference == family_preference::prefer_ipv6 ||
                      config_.preference == family_preference::prefer_ipv4;
    if (!both) {
        return;
    }
    if (hints_.skip_ipv6_lookup) {
        preferred_ = address_family::ipv4;
    } else if (hints_.sort) {
        // The family whose best known address ranks first is the one to wait for (§3). A
        // family with nothing known counts as usable: only a penalty or a missing route moves
        // the dial away from the configured family.
        const address_hint* best[2] = {nullptr, nullptr};
        for (const auto& h : hints_.addresses) {
            const int f = index(h.address.is_v6() ? address_family::ipv6 : address_family::ipv4);
            if (best[f] == nullptr ||
                comes_before(h.address, &h, best[f]->address, best[f], explicit_first_)) {
                best[f] = &h;
            }
        }
        const auto usable = [](const address_hint* h) {
            return h == nullptr || !(h->penalised || h->no_route);
        };
        const address_family o = other(preferred_);
        const address_hint* p = best[index(preferred_)];
        const address_hint* q = best[index(o)];
        if (!usable(p) && usable(q)) {
            preferred_ = o;
        } else if (p != nullptr && q != nullptr && usable(p) && usable(q) &&
                   comes_before(q->address, q, p->address, p, explicit_first_)) {
            preferred_ = o;
        }
    }
    queue_.set_preferred(preferred_);
}

void dial_engine::add_hint(const address_hint& hint) {
    auto it = std::lower_bound(
        hints_.addresses.begin(),
        hints_.addresses.end(),
        hint.address,
        [](const address_hint& h, const boost::asio::ip::address& a) { return h.address < a; });
    if (it != hints_.addresses.end() && it->address == hint.address) {
        if (hint.source) {
            it->source = hint.source;
        }
        it->no_route = it->no_route || hint.no_route;
        return;
    }
    hints_.addresses.insert(it, hint);
}

const address_hint* dial_engine::hint_of(const boost::asio::ip::address& a) const noexcept {
    // A repeat dial knows one or two addresses: comparing for equality beats ordering them
    // (asio's address operator< copies both sides into v4/v6 objects).
    if (hints_.addresses.size() <= 4) {
        for (const auto& h : hints_.addresses) {
            if (h.address == a) {
                return &h;
            }
        }
        return nullptr;
    }
    auto it = std::lower_bound(
        hints_.addresses.begin(),
        hints_.addresses.end(),
        a,
        [](const address_hint& h, const boost::asio::ip::address& x) { return h.address < x; });
    return it != hints_.addresses.end() && it->address == a ? &*it : nullptr;
}

bool dial_engine::before(const endpoint& a, const endpoint& b) const noexcept {
    return comes_before(
        a.address(), hint_of(a.address()), b.address(), hint_of(b.address()), explicit_first_);
}

// RFC 6724 across families: once both families may be used and nothing has started yet, the
// family of the better head goes first (the §4 interleave then follows from it).
void dial_engine::choose_first_family() {
    const endpoint* p = queue_.peek(queue_.preferred());
    const endpoint* q = queue_.peek(other(queue_.preferred()));
    if (p != nullptr && q != nullptr && before(*q, *p)) {
        queue_.set_preferred(other(queue_.preferred()));
    }
}

void dial_engine::begin(time_point now) {
    started_ = true;
    trace_.started = now;
    if (config_.overall_timeout) {
        deadline_ = now + *config_.overall_timeout;
    }
}

void dial_engine::start(time_point now, const dial_target& target) {
    if (started_) {
        return;
    }
    if (target.error) {
        begin(now);
        finish(now, target.error, std::nullopt);
        return;
    }
    if (!target.needs_lookup()) {
        const endpoint literal = target.literal_endpoint();
        start_with_endpoints(now, std::span<const endpoint>(&literal, 1));
        return;
    }
    begin(now);
    for (const address_family f : {address_family::ipv6, address_family::ipv4}) {
        // §3: AAAA first. A literal with a service name looks up only its own family (the
        // answer is the literal); a family the policy excludes is not asked for.
        // A host without an IPv6 route asks no AAAA (hints.skip_ipv6_lookup).
        const bool skipped = f == address_family::ipv6 && hints_.skip_ipv6_lookup &&
                             config_.preference != family_preference::ipv6_only;
        const bool wanted = target.literal ? family_of(endpoint{*target.literal, 0}) == f
                                           : family_allowed(config_.preference, f) && !skipped;
        if (wanted) {
            expected_[index(f)] = true;
            actions_.emplace_back(start_lookup{f});
        }
    }
    step(now);
}

void dial_engine::start(time_point now, std::initializer_list<address_family> expected) {
    start(now, std::vector<address_family>(expected));
}

void dial_engine::start(time_point now, const std::vector<address_family>& expected) {
    if (started_) {
        return;
    }
    begin(now);
    for (address_family f : expected) {
        // A query for a family the policy excludes is not worth waiting for.
        if (family_allowed(config_.preference, f)) {
            expected_[index(f)] = true;
        }
    }
    step(now);
}

void dial_engine::start_with_endpoints(time_point now, std::span<const endpoint> endpoints) {
    if (started_) {
        return;
    }
    begin(now);
    accept(now, std::nullopt, endpoints, {});
    step(now);
}

void dial_engine::on_answer(time_point now, resolution_answer answer) {
    if (!started_ || finished_) {
        return;
    }
    if (!answer.groups.empty() && answer.groups.size() != answer.endpoints.size()) {
        answer.groups.clear();  // a malformed grouping is ignored, not trusted
    }
    accept(now, answer.family, answer.endpoints, answer.error, answer.ttl, answer.groups);
    step(now);
}

void dial_engine::settle_source(time_point now) {
    if (pending_sources_ > 0) {
        --pending_sources_;
    }
    if (started_ && !finished_) {
        step(now);  // the last source settled with nothing left to try: the dial ends
    }
}

void dial_engine::withdraw(time_point now, std::span<const endpoint> endpoints) {
    if (!started_ || finished_) {
        return;
    }
    for (const auto& ep : endpoints) {
        const bool attempted = std::any_of(trace_.attempts.begin(),
                                           trace_.attempts.end(),
                                           [&](const auto& a) { return a.target == ep; });
        if (attempted) {
            continue;
        }
        withdrawn_.push_back(ep);
        for (auto& e : trace_.endpoints) {
            if (e.target == ep && e.fate == endpoint_fate::queued) {
                e.fate = endpoint_fate::withdrawn;
            }
        }
    }
    step(now);
}

void dial_engine::accept(time_point now,
                         std::optional<address_family> family,
                         std::span<const endpoint> endpoints,
                         error_code error,
                         std::chrono::seconds ttl,
                         std::span<const std::uint16_t> groups) {
    answer_record record{family, now, endpoints.size(), 0, error, ttl};
    const auto answer_index = static_cast<std::uint32_t>(trace_.answers.size());
    const auto note = [&](const endpoint& ep, endpoint_fate fate) {
        if (config_.trace_endpoints) {
            trace_.endpoints.push_back(endpoint_record{ep, answer_index, fate});
        }
    };
    if (config_.trace_endpoints) {
        // One allocation per answer: growing by doubling cost 4096 addresses 0.9 ms of copies
        // and page faults (bench_engine first_wins/4096, docs/benchmarks.md).
        trace_.endpoints.reserve(trace_.endpoints.size() + endpoints.size());
    }
    // Every endpoint may become an attempt: reserving here (pages untouched until used) saves
    // the copies of growing the records one doubling at a time under a long list.
    trace_.attempts.reserve(trace_.attempts.size() + endpoints.size());
    if (family) {
        answered_[index(*family)] = true;
        answer_error_[index(*family)] = error;
    }
    if (!partially_cancelled_) {
        std::size_t v6 = 0;
        for (const endpoint& ep : endpoints) {
            v6 += family_of(ep) == address_family::ipv6 ? 1u : 0u;
        }
        queue_.reserve(v6, endpoints.size() - v6);  // one allocation per list, not log n
        const auto consider = [&](const endpoint& ep, std::uint16_t group) {
            // Envoy CVE-2024-53269: odd endpoints are skipped, never sorted or dialled.
            if (!is_dialable(ep)) {
                ++rejected_invalid_;
                note(ep, endpoint_fate::invalid);
                return;
            }
            if (!family_allowed(config_.preference, family_of(ep))) {
                ++rejected_family_;
                note(ep, endpoint_fate::excluded);
                return;
            }
            bool allowed = true;
            if (config_.endpoint_filter) {
                try {
                    allowed = config_.endpoint_filter(ep);
                } catch (...) {
                    allowed = false;  // a filter that throws refuses the endpoint
                }
            }
            if (!allowed) {
                ++rejected_filter_;
                note(ep, endpoint_fate::filtered);
                return;
            }
            if (queue_.add(ep, group)) {  // §4: duplicates removed
                ++record.accepted;
                note(ep, endpoint_fate::queued);
            } else {
                note(ep, endpoint_fate::duplicate);
            }
        };
        if (!groups.empty()) {
            // Service groups (HTTPS records): the queue keeps each family's untried part in
            // group order; within a group, RFC 6724 and the history rules as below.
            std::vector<std::size_t> order(endpoints.size());
            for (std::size_t i = 0; i < order.size(); ++i) {
                order[i] = i;
            }
            std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
                if (groups[x] != groups[y]) {
                    return groups[x] < groups[y];
                }
                return hints_.sort && before(endpoints[x], endpoints[y]);
            });
            for (const auto i : order) {
                consider(endpoints[i], groups[i]);
            }
        } else {
            small_vector<endpoint, 4> sorted;
            if (hints_.sort && endpoints.size() > 1) {
                // RFC 6724 and the history rules within the answer, stable: ties keep the
                // resolver's order (rule 10). Short answers by insertion, which allocates nothing
                // (std::stable_sort takes a temporary buffer: a third allocation per dial).
                sorted.assign(endpoints.begin(), endpoints.end());
                const auto less = [this](const endpoint& x, const endpoint& y) {
                    return before(x, y);
                };
                if (sorted.size() > 16) {
                    std::stable_sort(sorted.begin(), sorted.end(), less);
                } else {
                    for (std::size_t i = 1; i < sorted.size(); ++i) {
                        const endpoint item = sorted[i];
                        std::size_t j = i;
                        for (; j > 0 && less(item, sorted[j - 1]); --j) {
                            sorted[j] = sorted[j - 1];
                        }
                        sorted[j] = item;
                    }
                }
                endpoints = std::span<const endpoint>(sorted.data(), sorted.size());
            }
            for (const endpoint& ep : endpoints) {
                consider(ep, 0);
            }
        }
    } else {
        for (const endpoint& ep : endpoints) {
            note(ep, endpoint_fate::never_tried);  // a partial cancel starts nothing new
        }
    }
    trace_.answers.push_back(record);
    if (record.accepted > 0) {
        replan_next_start();
    }

    // §3: addresses of the other family arrived while the preferred query is outstanding: wait
    // up to the Resolution Delay for it. Under a deadline the wait takes at most half of what
    // is left, so the fallback family is still tried in time.
    const bool preferred_pending = expects(preferred_) && !answered_[index(preferred_)];
    if (preferred_pending && !resolution_delay_until_ && queue_.untried(other(preferred_)) > 0) {
        duration wait = config_.resolution_delay;
        if (deadline_) {
            wait = std::min(wait, (*deadline_ - now) / 2);
        }
        resolution_delay_until_ = now + wait;
    }
}

void dial_engine::on_attempt_result(time_point now, attempt_id id, error_code ec) {
    if (!started_ || finished_) {
        return;
    }
    if (id >= trace_.attempts.size() || trace_.attempts[id].outcome != attempt_outcome::pending) {
        return;  // already ended by the engine (cancelled or timed out): stale report
    }
    if (!ec) {
        // §5: the first attempt to connect wins; all others are cancelled, untried ones dropped.
        end_attempt(now, id, attempt_outcome::won, {});
        cancel_running(now);
        finish(now, {}, id);
        return;
    }
    end_attempt(now, id, attempt_outcome::failed, ec);
    // §5: a failed attempt lets the next one start at once (still >= 10 ms after the previous
    // start) instead of waiting for the Connection Attempt Delay.
    next_start_at_ = now;
    step(now);
}

// The Happy Eyeballs v3 draft (§6): with TLS, wait for the handshake before cancelling other
// attempts, and extend the timer once the transport handshake has made progress.
void dial_engine::on_attempt_connected(time_point now, attempt_id id) {
    if (!started_ || finished_ || id >= trace_.attempts.size()) {
        return;
    }
    auto& record = trace_.attempts[id];
    if (record.outcome != attempt_outcome::pending || record.connected) {
        return;
    }
    record.connected = now;
    ++connected_running_;
    duration grace = config_.handshake_grace.value_or(record.delay);
    if (deadline_) {
        grace = std::min(grace, stagger_delay(now, record.target));
    }
    if (next_start_at_ && now + grace > *next_start_at_) {
        next_start_at_ = now + grace;
    }
    step(now);
}

void dial_engine::on_timer(time_point now) {
    if (!started_ || finished_) {
        return;
    }
    if (armed_ && now >= *armed_) {
        armed_.reset();
    }
    step(now);
}

void dial_engine::cancel(time_point now, cancel_kind kind) {
    if (!started_ || finished_) {
        return;
    }
    if (kind == cancel_kind::terminal) {
        cancel_running(now);
        finish(now, boost::asio::error::operation_aborted, std::nullopt);
        return;
    }
    // Partial: no new attempt; running ones may still win.
    partially_cancelled_ = true;
    queue_.clear();
    step(now);
}

std::optional<action> dial_engine::next_action() {
    if (actions_head_ == actions_.size()) {
        return std::nullopt;
    }
    action a = std::move(actions_[actions_head_++]);
    if (actions_head_ == actions_.size()) {
        actions_.clear();  // keeps the storage for the next event's actions
        actions_head_ = 0;
    }
    return a;
}

void dial_engine::step(time_point now) {
    if (finished_) {
        return;
    }
    if (deadline_ && now >= *deadline_) {
        cancel_running(now);
        finish(now, error::timed_out, std::nullopt);
        return;
    }
    expire_attempts(now);
    start_due_attempts(now);
    if (running_.empty()) {
        if (partially_cancelled_) {
            finish(now, boost::asio::error::operation_aborted, std::nullopt);
            return;
        }
        if (!queue_.has_next(true) && resolution_complete()) {
            finish(now, failure_reason(), std::nullopt);
            return;
        }
    }
    arm(next_wakeup(now));
}

void dial_engine::expire_attempts(time_point now) {
    if (connected_running_ != 0) {
        expire_handshakes(now);
    }
    if (!config_.attempt_timeout) {
        return;
    }
    if (connected_running_ != 0) {
        // Some attempts are past their connect, in no particular order: scan.
        small_vector<attempt_id, 2> expired;
        for (attempt_id id : running_) {
            const auto& record = trace_.attempts[id];
            if (!record.connected && record.started + *config_.attempt_timeout <= now) {
                expired.push_back(id);
            }
        }
        for (attempt_id id : expired) {
            actions_.emplace_back(cancel_attempt{id});
            end_attempt(now, id, attempt_outcome::timed_out, error::attempt_timed_out);
            next_start_at_ = now;
        }
        return;
    }
    // running_ is in start order and every attempt has the same timeout, so the expired ones
    // are a prefix: O(expired) per step, not O(running).
    while (!running_.empty()) {
        const attempt_id id = running_.front();
        if (trace_.attempts[id].started + *config_.attempt_timeout > now) {
            break;
        }
        actions_.emplace_back(cancel_attempt{id});
        end_attempt(now, id, attempt_outcome::timed_out, error::attempt_timed_out);
        next_start_at_ = now;  // a timed-out attempt counts as failed (§5)
    }
}

// An attempt whose stage outlived handshake_timeout counts as failed (§5: the next one starts).
void dial_engine::expire_handshakes(time_point now) {
    if (!config_.handshake_timeout) {
        return;
    }
    small_vector<attempt_id, 2> expired;
    for (attempt_id id : running_) {
        const auto& record = trace_.attempts[id];
        if (record.connected && *record.connected + *config_.handshake_timeout <= now) {
            expired.push_back(id);
        }
    }
    for (attempt_id id : expired) {
        actions_.emplace_back(cancel_attempt{id});
        end_attempt(now, id, attempt_outcome::timed_out, error::handshake_timed_out);
        next_start_at_ = now;
    }
}

void dial_engine::start_due_attempts(time_point now) {
    if (partially_cancelled_) {
        return;
    }
    for (;;) {
        if (config_.max_concurrent_attempts != 0 &&
            running_.size() >= config_.max_concurrent_attempts) {
            return;
        }
        // §5: never two starts within 10 ms, whatever caused the second one.
        if (last_start_ && now < *last_start_ + limits::min_attempt_delay) {
            return;
        }
        if (next_start_at_ && now < *next_start_at_) {
            return;
        }
        const bool other_allowed = other_family_allowed(now);
        if (hints_.sort && !last_start_ && other_allowed) {
            choose_first_family();
        }
        const auto target = queue_.pop(other_allowed);
        if (!target) {
            return;
        }
        if (!withdrawn_.empty() &&
            std::find(withdrawn_.begin(), withdrawn_.end(), *target) != withdrawn_.end()) {
            continue;
        }
        const attempt_id id = trace_.attempts.size();
        trace_.attempts.push_back(attempt_record{id, *target, now, std::nullopt, {}, {}});
        running_.push_back(id);
        last_start_ = now;
        // §5: the next attempt starts one Connection Attempt Delay after this one, unless an
        // attempt fails first. Earlier attempts keep running (a slow one is never abandoned).
        auto& record = trace_.attempts.back();
        record.delay = stagger_delay(now, *target, &record.delay_from);
        next_start_at_ = now + record.delay;
        actions_.emplace_back(start_attempt{id, *target});
    }
}

// §3: the other family may be used once the preferred answer is in, once the Resolution Delay
// ran out, or once racing has begun anyway.
bool dial_engine::other_family_allowed(time_point now) const noexcept {
    if (!expects(preferred_) || answered_[index(preferred_)] || last_start_) {
        return true;
    }
    return resolution_delay_until_ && now >= *resolution_delay_until_;
}

bool dial_engine::resolution_complete() const noexcept {
    if (pending_sources_ > 0) {
        return false;
    }
    for (int f = 0; f < 2; ++f) {
        if (expected_[f] && !answered_[f]) {
            return false;
        }
    }
    return true;
}

bool dial_engine::expects(address_family f) const noexcept {
    return expected_[index(f)];
}

// §5 with a deadline: shorten the delay so the untried addresses and the attempt started at
// `start` share what is left; never below the 10 ms floor (pitfall: a 200 ms timeout with a
// 300 ms delay must still reach IPv4).
// With history, the delay after an address is the one its RTT suggests (hint.attempt_delay).
duration dial_engine::stagger_delay(time_point start,
                                    const endpoint& target,
                                    delay_source* why) const noexcept {
    duration delay = config_.connection_attempt_delay;
    delay_source source = delay_source::configured;
    if (const auto* h = hint_of(target.address()); h != nullptr && h->attempt_delay) {
        delay = *h->attempt_delay;
        source = delay_source::history;
    }
    if (deadline_) {
        const auto waiting = static_cast<duration::rep>(queue_.untried());
        if (waiting > 0) {
            const duration share = (*deadline_ - start) / (waiting + 1);
            if (share < delay) {
                delay = share;
                source = delay_source::deadline;
            }
        }
        if (delay < limits::min_attempt_delay) {
            delay = limits::min_attempt_delay;
            source = delay_source::floor;
        }
    }
    if (why != nullptr) {
        *why = source;
    }
    return delay;
}

// Addresses arrived after the last start (a late answer, §6): under a deadline the pending start
// was planned for fewer addresses, possibly past the deadline. Plan it again as if they had been
// known at the last start, so every address is still tried before the deadline (issue 11). It
// only ever moves earlier; a start that falls in the past happens now (10 ms floor permitting).
void dial_engine::replan_next_start() {
    if (!deadline_ || !last_start_ || !next_start_at_) {
        return;
    }
    auto& last = trace_.attempts.back();
    delay_source why = delay_source::configured;
    const duration delay = stagger_delay(*last_start_, last.target, &why);
    if (*last_start_ + delay < *next_start_at_) {
        next_start_at_ = *last_start_ + delay;
        last.delay = delay;
        last.delay_from = why;
    }
}

std::optional<time_point> dial_engine::next_wakeup(time_point now) const noexcept {
    std::optional<time_point> at = deadline_;
    auto consider = [&at](time_point t) {
        if (!at || t < *at) {
            at = t;
        }
    };
    if (connected_running_ != 0) {
        for (attempt_id id : running_) {
            const auto& record = trace_.attempts[id];
            if (record.connected && config_.handshake_timeout) {
                consider(*record.connected + *config_.handshake_timeout);
            } else if (!record.connected && config_.attempt_timeout) {
                consider(record.started + *config_.attempt_timeout);
            }
        }
    } else if (config_.attempt_timeout && !running_.empty()) {
        // The earliest-started running attempt (running_ is in start order) times out first.
        consider(trace_.attempts[running_.front()].started + *config_.attempt_timeout);
    }
    const bool below_cap =
        config_.max_concurrent_attempts == 0 || running_.size() < config_.max_concurrent_attempts;
    if (!partially_cancelled_ && below_cap) {
        const time_point spacing_ok = last_start_ ? *last_start_ + limits::min_attempt_delay : now;
        if (queue_.has_next(other_family_allowed(now))) {
            consider(std::max(next_start_at_.value_or(now), spacing_ok));
        } else if (queue_.has_next(true) && resolution_delay_until_) {
            consider(
                std::max({*resolution_delay_until_, next_start_at_.value_or(now), spacing_ok}));
        }
    }
    return at;
}

void dial_engine::arm(std::optional<time_point> at) {
    if (at == armed_) {
        return;
    }
    if (at) {
        actions_.emplace_back(set_timer{*at});
    } else {
        actions_.emplace_back(cancel_timer{});
    }
    armed_ = at;
}

void dial_engine::end_attempt(time_point now,
                              attempt_id id,
                              attempt_outcome outcome,
                              error_code ec) {
    // running_ is in start order, which is id order: a binary search finds it.
    running_.erase(std::lower_bound(running_.begin(), running_.end(), id));
    auto& record = trace_.attempts[id];
    if (record.connected) {
        --connected_running_;
    }
    record.ended = now;
    record.outcome = outcome;
    record.error = ec;
}

void dial_engine::cancel_running(time_point now) {
    // In start order, then one clear(): erasing each from the front would be O(n^2).
    for (attempt_id id : running_) {
        actions_.emplace_back(cancel_attempt{id});
        auto& record = trace_.attempts[id];
        record.ended = now;
        record.outcome = attempt_outcome::cancelled;
        record.error = boost::asio::error::operation_aborted;
    }
    running_.clear();
    connected_running_ = 0;
}

void dial_engine::finish(time_point /*now*/, error_code ec, std::optional<attempt_id> winner) {
    queue_.clear();
    settle_endpoint_fates();
    if (armed_) {
        actions_.emplace_back(cancel_timer{});
        armed_.reset();
    }
    actions_.emplace_back(dial_done{ec, winner});
    finished_ = true;
}

// Each queued endpoint was attempted or never reached. Attempts are unique per endpoint (the
// queue drops duplicates). A few attempts (the healthy dial has one) are compared directly;
// more go through a sorted copy of their targets, O(n log n) in all.
void dial_engine::settle_endpoint_fates() {
    const auto& attempts = trace_.attempts;
    const auto settle = [this](auto&& was_attempted) {
        for (auto& e : trace_.endpoints) {
            if (e.fate == endpoint_fate::queued) {
                e.fate =
                    was_attempted(e.target) ? endpoint_fate::attempted : endpoint_fate::never_tried;
            }
        }
    };
    if (attempts.size() <= 8) {
        settle([&](const endpoint& ep) {
            return std::any_of(attempts.begin(), attempts.end(), [&](const attempt_record& a) {
                return a.target == ep;
            });
        });
        return;
    }
    small_vector<endpoint, 2> tried;
    tried.reserve(attempts.size());
    for (const auto& a : attempts) {
        tried.push_back(a.target);
    }
    std::sort(tried.begin(), tried.end());
    settle([&](const endpoint& ep) { return std::binary_search(tried.begin(), tried.end(), ep); });
}

// RFC 8305 leaves the error open (spec F.29). happy_dial reports the error of the first attempt
// started, i.e. the most preferred address; every attempt's own error stays in the trace. With
// no attempt at all it names why no address was left.
error_code dial_engine::failure_reason() const {
    for (const auto& record : trace_.attempts) {
        if (record.error) {
            return record.error;
        }
    }
    if (rejected_filter_ > 0) {
        return error::all_endpoints_filtered;
    }
    if (rejected_family_ > 0) {
        return error::family_excluded;
    }
    if (rejected_invalid_ > 0) {
        return error::invalid_endpoint;
    }
    if (answer_error_[index(preferred_)]) {
        return answer_error_[index(preferred_)];
    }
    if (answer_error_[index(other(preferred_))]) {
        return answer_error_[index(other(preferred_))];
    }
    return error::no_endpoints;
}

}  // namespace happy_dial::core
