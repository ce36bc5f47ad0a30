#include "history/route_probe.hpp"
#include "nat64_service.hpp"

#include <happy_dial/detail/dial_core.hpp>
#include <happy_dial/detail/lookup_gate.hpp>
#include <happy_dial/detail/system_lookup.hpp>
#include <happy_dial/dns_query.hpp>
#include <happy_dial/error.hpp>
#include <happy_dial/history.hpp>
#include <happy_dial/observer.hpp>
#include <happy_dial/proxy.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <random>
#include <variant>

namespace happy_dial::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// The dial whose engine this thread is running (the mutex is held): a cancellation signal
// emitted from inside a hook must not take the mutex again.
thread_local const dial_core* running_here = nullptr;

struct running_guard {
    const dial_core* previous;
    explicit running_guard(const dial_core* d) : previous(running_here) { running_here = d; }
    ~running_guard() { running_here = previous; }
    running_guard(const running_guard&) = delete;
    running_guard& operator=(const running_guard&) = delete;
};

// Names a dial among those sharing an observer.
std::uintptr_t dial_id(const dial_core* d) noexcept {
    return reinterpret_cast<std::uintptr_t>(d);
}

// The handler of a wait on one of the dial's timers.
struct timer_completion {
    using allocator_type = core_allocator<void>;
    std::shared_ptr<dial_core> core;
    unsigned generation;
    dial_core::timer_kind kind;

    void operator()(boost::system::error_code ec) {
        auto* c = core.get();
        c->on_timer(std::move(core), generation, kind, ec);
    }
    allocator_type get_allocator() const noexcept { return allocator_type(*core); }
};

}  // namespace

void* core_allocate(dial_core& core, std::size_t size, std::size_t align) {
    return core.allocate(size, align);
}

void core_deallocate(dial_core& core, void* p, std::size_t size, std::size_t align) noexcept {
    core.deallocate(p, size, align);
}

dial_core::dial_core(asio::any_io_executor io_executor, const dial_options& options)
    : io_executor_(std::move(io_executor)),
      options_(options),
      transport_(options_.transport ? options_.transport.get() : system_network::instance().get()),
      engine_([&] {
          auto config = to_engine_config(options_);
          config_error_ = core::validate(config);
          return config;
      }()) {}

dial_core::~dial_core() {
    release_lookups();
}

void dial_core::start(dial_request&& request) {
    self_ptr self = shared_from_this();
    lock_type lock(mutex_);
    {
        running_guard running(this);
        const auto now = core::clock::now();
        started_at_ = now;
        if (!config_error_ && options_.proxy) {
            config_error_ = add_proxy_stage(request);
        }
        if (options_.handshake) {
            stages_.push_back(options_.handshake);
        }
        if (config_error_) {
            finish(config_error_, std::nullopt);
        } else if (!request.resolve) {
            if (options_.history) {
                consult_history(now, request);
                probe_sources(request.endpoints);
            }
            engine_.start_with_endpoints(now, request.endpoints);
        } else {
            // RFC 8305 §3 decisions (literal shortcut, families, AAAA first) are the engine's:
            // it answers with start_lookup actions.
            target_ = core::parse_target(request.host, request.service);
            if (options_.history && !target_.error) {
                consult_history(now, request);
                if (!target_.needs_lookup()) {
                    const auto literal = target_.literal_endpoint();
                    probe_sources(std::span(&literal, 1));
                }
            }
            core::resolution_answer literal;
            if (!target_.error && !target_.needs_lookup() && target_.literal->is_v4()) {
                literal.family = core::address_family::ipv4;
                literal.endpoints.push_back(target_.literal_endpoint());
            }
            if (!literal.endpoints.empty() && ipv4_unroutable(literal)) {
                // RFC 8305 §7: an IPv4 literal on an IPv6-only network goes through the
                // NAT64; the engine waits for the answer its prefixes make of it.
                engine_.start(now, {core::address_family::ipv4});
                offer_answer(std::move(literal));
            } else {
                engine_.start(now, target_);
                if (options_.https_records == https_records_mode::opportunistic &&
                    target_.needs_lookup() && !target_.literal && !options_.transport &&
                    !engine_.done()) {
                    const auto port = target_.port ? target_.port : service_port(target_.service);
                    if (port) {
                        https_.emplace(
                            target_.host,
                            *port,
                            options_.supported_alpns.empty() ? core::default_tcp_alpns()
                                                             : options_.supported_alpns,
                            options_.https_shuffle_seed.value_or(std::random_device{}()));
                        start_https_query(core::https_query_name(target_.host, *port));
                    }
                }
            }
        }
        run_actions();
    }
    leave(std::move(self), lock, false);
}

void dial_core::on_cancellation_signal(asio::cancellation_type type) {
    if (running_here == this) {
        // Emitted from inside a hook this dial is running: applied when the hook returned.
        deferred_cancel_ = deferred_cancel_ ? (*deferred_cancel_ | type) : type;
        return;
    }
    self_ptr self = shared_from_this();
    lock_type lock(mutex_);
    {
        running_guard running(this);
        apply_cancel(type);
    }
    leave(std::move(self), lock, false);
}

void dial_core::apply_cancel(asio::cancellation_type type) {
    if (done_) {
        return;
    }
    // Terminal and total: abort everything (no socket is returned, so nothing the caller can
    // observe happened). Partial: start nothing new, let running attempts finish.
    const bool abort_all =
        (type & (asio::cancellation_type::terminal | asio::cancellation_type::total)) !=
        asio::cancellation_type::none;
    engine_.cancel(core::clock::now(),
                   abort_all ? core::cancel_kind::terminal : core::cancel_kind::partial);
    run_actions();
}

void dial_core::on_answer(self_ptr self, core::resolution_answer answer) {
    lock_type lock(mutex_);
    {
        running_guard running(this);
        note_answer();
        if (!done_) {
            if (options_.history) {
                probe_sources(answer.endpoints);
            }
            if (!hold_for_https(answer)) {
                shape_for_https(answer);
                offer_answer(std::move(answer));
            }
            run_actions();
        }
    }
    leave(std::move(self), lock, true);
}

// One more lookup answered: with all of them in, nothing needs the keep-alive timer.
void dial_core::note_answer() {
    if (++answers_ == tickets_.size() && keepalive_) {
        keepalive_->cancel();
    }
}

// Hands an answer to the engine. On an IPv6-only network its IPv4 addresses become NAT64
// addresses first (RFC 8305 §7), which may wait for the prefix discovery.
void dial_core::offer_answer(core::resolution_answer answer) {
    if (ipv4_unroutable(answer)) {
        if (!nat64_prefixes_) {
            nat64_prefixes_ = asio::use_service<nat64_service>(
                                  asio::query(io_executor_, asio::execution::context))
                                  .lookup(core::clock::now(), network_epoch());
        }
        if (!nat64_prefixes_) {
            nat64_held_.push_back(std::move(answer));
            if (!nat64_discovering_) {
                start_nat64_discovery();
            }
            return;
        }
        synthesize_into(answer);
    }
    engine_.on_answer(core::clock::now(), std::move(answer));
}

// Whether the answer holds an IPv4 address the NAT64 could stand in for and the host has no
// route to IPv4 (a UDP connect() probe, which sends nothing; once per dial). Loopback and the
// other never-synthesized ranges cost no probe.
bool dial_core::ipv4_unroutable(const core::resolution_answer& answer) {
    if (options_.nat64 == nat64_mode::off || options_.family == family_preference::ipv4_only) {
        return false;
    }
    for (const auto& ep : answer.endpoints) {
        if (ep.address().is_v4() && core::may_synthesize(ep.address().to_v4())) {
            if (!ipv4_unroutable_) {
                ipv4_unroutable_ = !probe_source(ep.address());
            }
            return *ipv4_unroutable_;
        }
    }
    return false;
}

// RFC 6052 §2.2: each IPv4 address becomes one IPv6 address per prefix, in prefix order, in
// its place. Without a prefix (no NAT64) the answer stays as it is and its IPv4 attempts fail
// as they would have.
void dial_core::synthesize_into(core::resolution_answer& answer) {
    const auto& prefixes = *nat64_prefixes_;
    if (prefixes.empty()) {
        return;
    }
    std::vector<tcp::endpoint> out;
    std::vector<std::uint16_t> groups;  // each synthesized address keeps its service group
    const bool grouped = !answer.groups.empty() && answer.groups.size() == answer.endpoints.size();
    out.reserve(answer.endpoints.size() * prefixes.size());
    for (std::size_t i = 0; i < answer.endpoints.size(); ++i) {
        const auto& ep = answer.endpoints[i];
        if (!ep.address().is_v4() || !core::may_synthesize(ep.address().to_v4())) {
            out.push_back(ep);
        } else {
            for (const auto& v6 : core::synthesize_all(prefixes, ep.address().to_v4())) {
                out.emplace_back(v6, ep.port());
            }
        }
        if (grouped) {
            groups.resize(out.size(), answer.groups[i]);
        }
    }
    answer.endpoints = std::move(out);
    answer.groups = std::move(groups);
}

// RFC 7050 §3: the NAT64's prefixes are in the AAAA answer for ipv4only.arpa, asked through
// the dial's own transport and resolver.
void dial_core::start_nat64_discovery() {
    nat64_discovering_ = true;
    // Any valid port: only the addresses are used.
    send_lookup(lookup_query{"ipv4only.arpa",
                             "9",
                             core::address_family::ipv6,
                             asio::ip::resolver_base::numeric_service,
                             io_executor_},
                lookup_purpose::nat64_discovery);
}

void dial_core::on_nat64_answer(self_ptr self, core::resolution_answer answer) {
    lock_type lock(mutex_);
    {
        running_guard running(this);
        note_answer();
        nat64_discovering_ = false;
        if (!done_) {
            std::vector<asio::ip::address_v6> found;
            for (const auto& ep : answer.endpoints) {
                if (ep.address().is_v6()) {
                    found.push_back(ep.address().to_v6());
                }
            }
            auto prefixes = core::discover_nat64_prefixes(found);
            const auto now = core::clock::now();
            // A definite answer is cached, "no NAT64" included; a failed query is not.
            if (!answer.error || answer.error == asio::error::host_not_found) {
                asio::use_service<nat64_service>(
                    asio::query(io_executor_, asio::execution::context))
                    .store(now, prefixes, answer.ttl, network_epoch());
            }
            nat64_prefixes_ = std::move(prefixes);
            auto held = std::move(nat64_held_);
            for (auto& a : held) {
                synthesize_into(a);
                engine_.on_answer(now, std::move(a));
            }
            run_actions();
        }
    }
    leave(std::move(self), lock, true);
}

// Sends the HTTPS query for `name` (the origin's, then each AliasMode target's) with c-ares
// on the I/O executor; its answer comes back to on_https_answer. Without c-ares it completes
// with error::resolver_unavailable: the dial goes on without records.
void dial_core::start_https_query(const std::string& name) {
    https_name_ = name;
    https_pending_ = true;
    ++outstanding_;
    auto self = shared_from_this();
    start_dns_query(io_executor_,
                    name,
                    core::dns_type_https,
                    https_cancel_.slot(),
                    [self, executor = io_executor_](boost::system::error_code ec,
                                                    std::vector<std::uint8_t> message) mutable {
                        // Posted: this runs inside c-ares's callback, which must not be re-entered.
                        asio::post(
                            executor,
                            [self = std::move(self), ec, message = std::move(message)]() mutable {
                                auto* d = self.get();
                                d->on_https_answer(std::move(self), ec, std::move(message));
                            });
                    });
}

void dial_core::on_https_answer(self_ptr self,
                                boost::system::error_code ec,
                                std::vector<std::uint8_t> message) {
    lock_type lock(mutex_);
    {
        running_guard running(this);
        --outstanding_;
        https_pending_ = false;
        if (!done_) {
            std::vector<core::service_record> records;
            core::dns_message parsed;
            if (!ec && !core::parse_dns_message(message, parsed)) {
                records = core::service_records_of(parsed, https_name_).records;
            }
            https_records_.insert(https_records_.end(), records.begin(), records.end());
            const bool service_mode = std::any_of(
                records.begin(), records.end(), [](const auto& r) { return !r.alias_mode(); });
            // RFC 9460 §2.4.2: an AliasMode record sends the client to its target's records
            // ("." means no service); the chain is bounded.
            const auto alias = std::find_if(records.begin(), records.end(), [](const auto& r) {
                return r.alias_mode() && !r.target.empty();
            });
            if (!service_mode && alias != records.end() && https_depth_ < core::max_alias_depth &&
                !https_released_) {
                ++https_depth_;
                start_https_query(alias->target);
            } else if (!https_released_) {
                if (https_depth_ > 0) {
                    // The services of an alias's target: "." there is that target, not the
                    // origin, so its records reach it through their hints.
                    for (auto& r : records) {
                        if (r.target.empty()) {
                            r.target = https_name_;
                        }
                    }
                }
                https_->set_records(records);
                use_https_records(core::clock::now());
                run_actions();
            }
            // Records after the hold gave up are only reported (the draft lets a client use
            // them for later connections).
        }
    }
    leave(std::move(self), lock, true);
}

// An address answer of the origin waits for the HTTPS records while they are due: the first
// one starts the Resolution Delay after which they are given up (v3 draft §4).
bool dial_core::hold_for_https(core::resolution_answer& answer) {
    if (!https_ || https_->answered() || https_released_ || !answer.family) {
        return false;
    }
    https_held_.push_back(std::move(answer));
    if (!https_hold_timer_) {
        https_hold_timer_.emplace(io_executor_);
        https_hold_timer_->expires_at(core::hold_address_answers_until(
            core::clock::now(), engine_.config().resolution_delay));
        ++outstanding_;
        https_hold_timer_->async_wait(
            timer_completion{shared_from_this(), 0, timer_kind::https_hold});
    }
    return true;
}

// The records are in: per family, the endpoints they make (with the held answer of that
// family, or with the hints standing in for it), in service order, then the rest as usual.
void dial_core::use_https_records(core::time_point now) {
    https_released_ = true;
    if (https_hold_timer_) {
        https_hold_timer_->cancel();
    }
    auto held = std::move(https_held_);
    for (const auto f : {core::address_family::ipv6, core::address_family::ipv4}) {
        auto it =
            std::find_if(held.begin(), held.end(), [&](const auto& a) { return a.family == f; });
        if (it == held.end()) {
            core::resolution_answer hints;
            auto planned = https_->endpoints(f, nullptr);
            hints.endpoints = std::move(planned.endpoints);
            hints.groups = std::move(planned.groups);
            if (!hints.endpoints.empty()) {
                hint_answers_.push_back(engine_.trace().answers.size());
                engine_.on_answer(now, std::move(hints));
            }
            continue;
        }
        auto planned = https_->endpoints(f, &it->endpoints);
        it->endpoints = std::move(planned.endpoints);
        it->groups = std::move(planned.groups);
        offer_answer(std::move(*it));
        held.erase(it);
    }
    start_target_lookups();
    for (auto& a : held) {  // a second answer of a family (a merged late one)
        shape_for_https(a);
        offer_answer(std::move(a));
    }
}

// RFC 9460 §3: a service for another name is reached at that name's addresses. Its hints
// stand in until they come (v3 draft §4); the engine waits for each lookup before it gives up
// for lack of addresses.
void dial_core::start_target_lookups() {
    for (const auto& name : https_->other_targets()) {
        for (const auto f : {core::address_family::ipv6, core::address_family::ipv4}) {
            if ((options_.family == family_preference::ipv4_only &&
                 f == core::address_family::ipv6) ||
                (options_.family == family_preference::ipv6_only &&
                 f == core::address_family::ipv4)) {
                continue;
            }
            engine_.expect_source();
            // Any valid port: the records give the ports.
            send_lookup(
                lookup_query{name,
                             "9",
                             f,
                             options_.resolver_flags | asio::ip::resolver_base::numeric_service,
                             io_executor_},
                lookup_purpose::service_target);
        }
    }
}

void dial_core::on_target_answer(self_ptr self,
                                 const std::string& name,
                                 core::resolution_answer answer) {
    lock_type lock(mutex_);
    {
        running_guard running(this);
        note_answer();
        if (!done_) {
            const auto now = core::clock::now();
            // A definite answer (addresses, NODATA, NXDOMAIN) replaces the target's hints of
            // its family; a failed lookup leaves them standing.
            if (answer.family && (!answer.error || answer.error == asio::error::host_not_found)) {
                const auto unconfirmed =
                    https_->unconfirmed_target_hints(name, *answer.family, answer.endpoints);
                if (!unconfirmed.empty()) {
                    engine_.withdraw(now, unconfirmed);
                }
            }
            auto planned = https_->add_target_addresses(name, answer.endpoints);
            if (!planned.endpoints.empty()) {
                core::resolution_answer addresses;  // no family: the origin's queries decide
                addresses.endpoints = std::move(planned.endpoints);
                addresses.groups = std::move(planned.groups);
                if (nat64_prefixes_ && ipv4_unroutable(addresses)) {
                    synthesize_into(addresses);
                }
                engine_.on_answer(now, std::move(addresses));
            }
            engine_.settle_source(now);
            run_actions();
        }
    }
    leave(std::move(self), lock, true);
}

// The hold gave up on the records: the held answers go on as they came.
void dial_core::release_held_answers() {
    https_released_ = true;
    auto held = std::move(https_held_);
    for (auto& a : held) {
        offer_answer(std::move(a));
    }
}

// An origin answer after the records: its addresses get the services' ports and order, and
// the hints of its family that it does not hold are withdrawn.
void dial_core::shape_for_https(core::resolution_answer& answer) {
    if (!https_ || !https_->answered() || !answer.family) {
        return;
    }
    const auto unconfirmed = https_->unconfirmed_hints(*answer.family, answer.endpoints);
    auto planned = https_->endpoints_of(answer.endpoints);
    answer.endpoints = std::move(planned.endpoints);
    answer.groups = std::move(planned.groups);
    if (!unconfirmed.empty()) {
        engine_.withdraw(core::clock::now(), unconfirmed);
    }
}

void dial_core::tag_https(dial_report& report) const {
    report.service_records = https_records_;
    for (const auto i : hint_answers_) {
        if (i >= report.answers.size()) {
            continue;
        }
        for (auto& e : report.answers[i].endpoints) {
            e.from_hint = true;
            if (e.attempt && *e.attempt < report.attempts.size()) {
                report.attempts[*e.attempt].from_hint = true;
            }
        }
    }
}

// The network the cached prefixes belong to: the history's epoch, when the dial has one.
std::optional<std::uint64_t> dial_core::network_epoch() const {
    if (options_.history) {
        return options_.history->epoch();
    }
    return std::nullopt;
}

std::optional<asio::ip::address_v4> dial_core::nat64_origin(const tcp::endpoint& ep) const {
    if (!nat64_prefixes_ || !ep.address().is_v6()) {
        return std::nullopt;
    }
    return core::synthesized_from(*nat64_prefixes_, ep.address().to_v6());
}

void dial_core::tag_nat64(dial_report& report) const {
    if (!nat64_prefixes_ || nat64_prefixes_->empty()) {
        return;
    }
    report.nat64_prefixes = *nat64_prefixes_;
    for (auto& answer : report.answers) {
        for (auto& e : answer.endpoints) {
            e.nat64_from = nat64_origin(e.endpoint);
        }
    }
    for (auto& a : report.attempts) {
        a.nat64_from = nat64_origin(a.endpoint);
    }
}

void dial_core::on_connect(self_ptr self, core::attempt_id id, boost::system::error_code ec) {
    lock_type lock(mutex_);
    {
        running_guard running(this);
        --outstanding_;
        if (!done_ && !ec && !stages_.empty()) {
            start_stage(id);  // the attempt may win only once its stage succeeds
        } else if (!done_) {
            if (options_.observer) {
                touched_.push_back(id);
            }
            engine_.on_attempt_result(core::clock::now(), id, ec);
            run_actions();
        }
        if (deferred_timer_ && deferred_timer_->attempt == id) {
            const auto deferred = *deferred_timer_;
            deferred_timer_.reset();
            // The engine still wants that wakeup (no timer action since): arm it now.
            if (!done_ && deferred.generation == timer_generation_) {
                arm_timer(deferred.at, deferred.generation);
            }
        }
        if (!(winner_ && *winner_ == id) && !in_stage(id)) {
            boost::system::error_code ignored;
            sockets_[id].close(ignored);  // failed, or late after being cancelled
        }
    }
    leave(std::move(self), lock, true);
}

// A proxy: the dial races the proxy's addresses, and each attempt asks the proxy for the
// dial's own host and port before it may win.
boost::system::error_code dial_core::add_proxy_stage(dial_request& request) {
    const auto& proxy = *options_.proxy;
    if (!request.resolve || proxy.host.empty() || proxy.port.empty()) {
        return error::invalid_proxy;  // the proxy needs a host and port to ask for
    }
    const auto origin = core::parse_target(request.host, request.service);
    if (origin.error) {
        return origin.error;
    }
    const auto port = service_port(origin.service);
    if (!port) {
        return error::invalid_service;
    }
    stages_.push_back(make_proxy_stage(proxy, origin.host, *port));
    request.host = proxy.host;
    request.service = proxy.port;
    return {};
}

// TCP connected: tell the engine (it extends the next attempt's timer and applies the
// handshake timeout from now on), then run the first stage unless that ended the attempt.
void dial_core::start_stage(core::attempt_id id) {
    const auto now = core::clock::now();
    engine_.on_attempt_connected(now, id);
    if (options_.observer) {
        const auto at = now - engine_.trace().started;
        notify_observer([&](dial_observer& o) {
            o.stage_done({dial_id(this), at}, id, attempt_stage::tcp_connect);
        });
    }
    run_actions();
    if (done_ || engine_.trace().attempts[id].outcome != core::attempt_outcome::pending) {
        return;  // on_connect closes the socket
    }
    run_stage(id, 0);
}

// Runs stages_[index] on attempt `id`.
void dial_core::run_stage(core::attempt_id id, std::size_t index) {
    if (stage_of_.size() <= id) {
        stage_of_.resize(id + 1, 0);
    }
    stage_of_[id] = static_cast<std::uint8_t>(index + 1);
    ++outstanding_;
    try {
        prepare_stage(*stages_[index], id);
        stages_[index]->start(id,
                              sockets_[id],
                              engine_.trace().attempts[id].target,
                              stage_completion(shared_from_this(), id));
    } catch (...) {
        // The stage did not start (its completion, never called, was destroyed): end the
        // attempt here, as a failed socket setup does.
        --outstanding_;
        engine_.on_attempt_result(core::clock::now(), id, error::setup_hook_threw);
        run_actions();
        release_stages(id);
    }
}

// Tells the stage what attempt `id`'s endpoint came with from the HTTPS records (the record's
// ALPN ids the caller speaks, its "ech" bytes: v3 draft §4 and RFC 9460 §7.1, §14.3.2).
void dial_core::prepare_stage(handshake_stage& stage, core::attempt_id id) {
    attempt_service service;
    std::vector<std::string> alpns;
    const core::service_record* record = nullptr;
    if (https_ && https_->answered()) {
        record = https_->record_for(engine_.trace().attempts[id].target);
    }
    if (record) {
        alpns = https_->shared_alpns(*record);
        service.target = https_->serves_origin(*record) ? std::string_view{} : record->target;
        service.priority = record->priority;
        service.alpns = alpns;
        service.ech_config_list = record->ech;
    }
    stage.prepare(id, service);
}

// Attempt `id` did not win: every stage it started frees what it made for it (a loser's TLS
// stream, its SSL state) now, and its socket closes.
void dial_core::release_stages(core::attempt_id id) noexcept {
    const auto ran = stage_of_[id];
    stage_of_[id] = 0;
    for (std::size_t i = 0; i < ran; ++i) {
        stages_[i]->release(id);
    }
    boost::system::error_code ignored;
    sockets_[id].close(ignored);
}

void dial_core::on_stage_done(self_ptr self, core::attempt_id id, boost::system::error_code ec) {
    lock_type lock(mutex_);
    {
        running_guard running(this);
        --outstanding_;
        const std::size_t index = stage_of_[id] - 1u;
        if (options_.report || options_.observer) {
            stage_ends_.push_back(
                stage_end{id, static_cast<std::uint8_t>(index), core::clock::now(), ec});
        }
        if (!done_ && !ec && index + 1 < stages_.size() &&
            engine_.trace().attempts[id].outcome == core::attempt_outcome::pending) {
            run_stage(id, index + 1);  // the next stage runs on what this one opened
        } else {
            if (!done_) {
                if (options_.observer) {
                    touched_.push_back(id);
                }
                engine_.on_attempt_result(core::clock::now(), id, ec);
                run_actions();
            }
            if (!(winner_ && *winner_ == id)) {
                release_stages(id);
            }
        }
    }
    leave(std::move(self), lock, true);
}

void dial_core::on_timer(self_ptr self,
                         unsigned generation,
                         timer_kind kind,
                         boost::system::error_code ec) {
    lock_type lock(mutex_);
    {
        running_guard running(this);
        --outstanding_;
        if (kind == timer_kind::attempt && !done_ && !ec && generation == timer_generation_) {
            engine_.on_timer(core::clock::now());
            run_actions();
        } else if (kind == timer_kind::https_hold && !done_ && !ec && !https_released_) {
            // v3 draft §4: the HTTPS answer is late; the address answers go on without it.
            release_held_answers();
            run_actions();
        }
    }
    leave(std::move(self), lock, true);
}

// Applies a cancellation emitted inside a hook, then completes when the dial is over and no
// child handler is pending.
void dial_core::leave(self_ptr self, lock_type& lock, bool inline_allowed) {
    while (deferred_cancel_) {
        const auto type = *deferred_cancel_;
        deferred_cancel_.reset();
        running_guard running(this);
        apply_cancel(type);
    }
    if (!done_ || completed_ || outstanding_ != 0) {
        return;
    }
    completed_ = true;
    if (options_.report || options_.observer) {
        auto report = make_dial_report();
        if (options_.observer) {
            observe_end(report);
        }
        if (options_.report) {
            *options_.report = std::move(report);
        }
    }
    dial_result result = std::move(result_);
    lock.unlock();  // nothing else can reach the dial now: no child handler is pending
    complete(std::move(self), std::move(result), inline_allowed);
}

void dial_core::run_actions() {
    while (auto next = engine_.next_action()) {
        std::visit([&](const auto& a) { execute(a); }, *next);
    }
    just_settled_.reset();  // only a set_timer of this same batch may rely on it
    if (options_.observer) {
        observe();
    }
}

void dial_core::execute(const core::start_lookup& a) {
    auto flags = options_.resolver_flags;
    if (target_.port) {
        flags |= asio::ip::resolver_base::numeric_service;
    }
    if (options_.observer) {
        notify_observer([&](dial_observer& o) {
            o.lookup_sent(dial_event{dial_id(this), core::clock::now() - started_at_}, a.family);
        });
    }
    send_lookup(lookup_query{target_.host, target_.service, a.family, flags, io_executor_});
}

// Sends one lookup through the transport; its answer comes back on the I/O executor to
// on_answer, on_nat64_answer or on_target_answer, by `purpose`.
void dial_core::send_lookup(lookup_query query, lookup_purpose purpose) {
    auto ticket = std::make_shared<lookup_ticket>();
    ticket->gate =
        asio::use_service<lookup_gate>(asio::query(io_executor_, asio::execution::context))
            .shared();
    ticket->target = this;
    ticket->executor = io_executor_;
    ticket->purpose = purpose;
    if (purpose == lookup_purpose::service_target) {
        ticket->name = query.host;
    }
    tickets_.push_back(ticket);
    if (answers_ + 1 == tickets_.size()) {
        // The first lookup, or one sent after every earlier one answered (NAT64 discovery, a
        // service's target name): the keep-alive wait was cancelled, so it waits again.
        keep_alive_during_lookups();
    }
    if (!options_.transport) {  // the real network: which resolver, once per dial
        if (!resolver_) {
            resolver_ = effective_resolver(asio::query(io_executor_, asio::execution::context),
                                           options_.resolver);
        }
        query.resolver = resolver_->backend;
    } else {
        query.resolver = options_.resolver;
    }
    query.cancellation = ticket->cancel.slot();
    transport_->async_lookup(query, [ticket = std::move(ticket)](core::resolution_answer answer) {
        lookup_ticket::answer(ticket, std::move(answer));
    });
}

// A lookup runs off this context and holds no reference to this dial; a pending wait on this
// timer keeps the dial (and the io_context's work count) alive until the answers are in or
// the dial ends.
void dial_core::keep_alive_during_lookups() {
    if (!keepalive_) {
        keepalive_.emplace(io_executor_);
    }
    keepalive_->expires_at(asio::steady_timer::time_point::max());
    ++outstanding_;
    keepalive_->async_wait(timer_completion{shared_from_this(), 0, timer_kind::keepalive});
}

void dial_core::execute(const core::start_attempt& a) {
    auto& socket = sockets_.emplace(io_executor_);
    boost::system::error_code ec;
    socket.open(a.target.protocol(), ec);
    if (!ec && options_.socket_setup) {
        try {
            options_.socket_setup(socket, a.target, ec);
        } catch (...) {
            ec = error::setup_hook_threw;
        }
    }
    if (ec) {
        boost::system::error_code ignored;
        socket.close(ignored);
        if (options_.observer) {
            touched_.push_back(a.id);
        }
        engine_.on_attempt_result(core::clock::now(), a.id, ec);  // actions queue behind
        return;
    }
    ++outstanding_;
    if (transport_->async_connect(socket, a.target, connect_completion(shared_from_this(), a.id)) ==
        connect_progress::settled) {
        just_settled_ = a.id;
    }
    if (options_.report || options_.observer) {
        note_local_endpoint(a.id, socket);
    }
}

// connect() has bound the socket (the kernel picks the source address and port then); a
// transport that opened no real connection leaves port 0, which is not reported.
void dial_core::note_local_endpoint(core::attempt_id id, const tcp::socket& socket) {
    boost::system::error_code ec;
    const auto local = socket.local_endpoint(ec);
    if (locals_.size() <= id) {
        locals_.resize(id + 1);
    }
    if (!ec && local.port() != 0) {
        locals_[id] = local;
    }
}

void dial_core::execute(const core::cancel_attempt& a) {
    if (options_.observer) {
        touched_.push_back(a.id);
    }
    if (in_stage(a.id)) {
        stages_[stage_of_[a.id] - 1u]->cancel(a.id);
    } else {
        transport_->cancel_connect(sockets_[a.id]);
    }
    boost::system::error_code ignored;
    sockets_[a.id].close(ignored);  // aborts the pending connect and frees the fd now
}

void dial_core::execute(const core::set_timer& a) {
    const unsigned generation = ++timer_generation_;  // an earlier wait's handler is stale
    // The attempt started in this same step already connected or failed (loopback does the
    // handshake inside connect()): its completion is queued and the engine will decide again
    // when it runs. Arming the timer now would cost a timer syscall, and cancelling it another
    // scheduler pass, for a wakeup that is almost never needed; on_connect arms it if the
    // engine still wants it.
    if (just_settled_) {
        deferred_timer_ = deferred_timer{a.at, generation, *just_settled_};
        return;
    }
    arm_timer(a.at, generation);
}

void dial_core::arm_timer(core::time_point at, unsigned generation) {
    if (!timer_) {
        timer_.emplace(io_executor_);
    }
    timer_->expires_at(at);  // cancels an earlier wait, whose handler then sees a stale gen
    ++outstanding_;
    timer_->async_wait(timer_completion{shared_from_this(), generation, timer_kind::attempt});
}

void dial_core::execute(const core::cancel_timer&) {
    ++timer_generation_;
    if (timer_) {
        timer_->cancel();
    }
}

void dial_core::execute(const core::dial_done& a) {
    finish(a.error, a.winner);
}

void dial_core::finish(boost::system::error_code ec, std::optional<core::attempt_id> winner) {
    done_ = true;
    finished_at_ = core::clock::now();
    result_.error = ec;
    winner_ = winner;
    if (winner) {
        result_.endpoint = engine_.trace().attempts[*winner].target;
        result_.socket.emplace(std::move(sockets_[*winner]));
        result_.winner = winner;
    }
    if (options_.history && history_use_) {
        const auto& attempts = engine_.trace().attempts;
        if (!attempts.empty()) {
            history_use_->first_family = core::family_of(attempts.front().target);
        }
        history_use_->updated = options_.history->record(
            finished_at_,
            history_key{options_.history_partition, history_host_, history_port_},
            engine_.trace(),
            ec,
            probed_,
            history_use_->epoch);
    }
    ++timer_generation_;
    if (timer_) {
        timer_->cancel();
    }
    if (keepalive_) {
        keepalive_->cancel();
    }
    if (https_hold_timer_) {
        https_hold_timer_->cancel();
    }
    if (https_pending_) {
        https_cancel_.emit(asio::cancellation_type::terminal);
    }
    release_lookups();
}

// The history's hints for this destination (named services are keyed by name, port 0), and
// whether IPv6 is routable at all: without a route no AAAA query is sent.
void dial_core::consult_history(core::time_point now, const dial_request& request) {
    if (request.resolve) {
        history_host_ = target_.host;
        if (target_.port) {
            history_port_ = *target_.port;
        } else {
            history_host_.append("/").append(target_.service);
        }
    } else if (!request.endpoints.empty()) {
        history_port_ = request.endpoints.front().port();
    }
    history_use use;
    auto hints = options_.history->hints(
        now, history_key{options_.history_partition, history_host_, history_port_}, &use);
    if (request.resolve && !target_.literal) {
        use.ipv6_routable = options_.history->ipv6_routable();
        hints.skip_ipv6_lookup = !use.ipv6_routable;
    }
    engine_.set_hints(std::move(hints));
    history_use_ = use;
}

// RFC 6724 rules 1, 2 and 5 need each destination's source address: a UDP connect() per
// address the history has not seen yet (the history keeps the answer until the network changes).
// At most max_addresses per dial, what the history keeps of a destination: a 1,000-address
// answer costs no more than 16 probes (the rest sort by the rules that need no source).
void dial_core::probe_sources(std::span<const tcp::endpoint> endpoints) {
    const auto& settings = options_.history->settings();
    if (!settings.probe_routes) {
        return;
    }
    for (const auto& ep : endpoints) {
        if (probed_.size() >= settings.max_addresses) {
            return;
        }
        const auto* known = engine_.hint_of(ep.address());
        if (known != nullptr && (known->source || known->no_route)) {
            continue;
        }
        core::address_hint hint;
        hint.address = ep.address();
        hint.source = probe_source(ep.address());
        hint.no_route = !hint.source;
        engine_.add_hint(hint);
        probed_.push_back(std::move(hint));
    }
}

void dial_core::release_lookups() {
    for (auto& ticket : tickets_) {
        ticket->release();
    }
}

dial_report dial_core::make_dial_report() const {
    if (!engine_.done()) {  // failed before the engine started (bad options)
        dial_report r;
        r.error = result_.error;
        r.elapsed = finished_at_ - started_at_;
        return r;
    }
    auto report = make_report(engine_.trace(), finished_at_, result_.error, winner_);
    report.resolver = resolver_;
    report.history = history_use_;
    for (std::size_t i = 0; i < locals_.size() && i < report.attempts.size(); ++i) {
        report.attempts[i].local = locals_[i];
    }
    for (std::size_t i = 0; i < report.attempts.size() && !stage_ends_.empty(); ++i) {
        add_stages(static_cast<core::attempt_id>(i), report.attempts[i]);
    }
    report.non_preferred_family_won = fell_back();
    tag_nat64(report);
    tag_https(report);
    return report;
}

// The winner is of the other family than the configured preferred one, although the preferred
// family had an address to try: the fallback Happy Eyeballs exists for.
bool dial_core::fell_back() const {
    std::optional<core::address_family> preferred;
    if (options_.family == core::family_preference::prefer_ipv6) {
        preferred = core::address_family::ipv6;
    } else if (options_.family == core::family_preference::prefer_ipv4) {
        preferred = core::address_family::ipv4;
    }
    const auto& trace = engine_.trace();
    if (!winner_ || !preferred || core::family_of(trace.attempts[*winner_].target) == *preferred) {
        return false;
    }
    return std::any_of(trace.endpoints.begin(), trace.endpoints.end(), [&](const auto& e) {
        return core::family_of(e.target) == *preferred &&
               (e.fate == core::endpoint_fate::attempted ||
                e.fate == core::endpoint_fate::never_tried);
    });
}

// Tells the observer what the last step changed, in causal order: the attempts that ended
// (a failure or a win is what starts or stops the others), the answers that arrived, the
// attempts started, a delay the deadline shortened, then attempts that ended in the step that
// started them. touched_ names the candidates for an end, so a step costs O(what changed).
void dial_core::observe() {
    const auto& trace = engine_.trace();
    const auto id = dial_id(this);
    const std::size_t started_before = observed_attempts_;
    observe_ends(0, started_before);
    for (; observed_answers_ < trace.answers.size(); ++observed_answers_) {
        auto r = make_answer_report(trace.answers[observed_answers_], trace.started);
        for (; observed_endpoints_ < trace.endpoints.size() &&
               trace.endpoints[observed_endpoints_].answer == observed_answers_;
             ++observed_endpoints_) {
            const auto& e = trace.endpoints[observed_endpoints_];
            endpoint_report er{e.target, e.fate, std::nullopt};
            er.nat64_from = nat64_origin(e.target);
            r.endpoints.push_back(er);
        }
        notify_observer([&](dial_observer& o) { o.answer_received({id, r.at}, r); });
    }
    for (; observed_attempts_ < trace.attempts.size(); ++observed_attempts_) {
        const auto i = observed_attempts_;
        const auto r = attempt_report_of(i);
        notify_observer([&](dial_observer& o) { o.attempt_started({id, r.started}, i, r); });
        observed_delay_ = core::delay_source::configured;
    }
    // The latest attempt's delay: set at its start, shortened later when more addresses
    // arrive under a deadline (dial_engine::replan_next_start).
    if (!trace.attempts.empty()) {
        const auto i = trace.attempts.size() - 1;
        const auto& last = trace.attempts.back();
        const bool shortened = last.delay_from == core::delay_source::deadline ||
                               last.delay_from == core::delay_source::floor;
        if (shortened &&
            (observed_delay_ != last.delay_from || observed_delay_value_ != last.delay)) {
            observed_delay_ = last.delay_from;
            observed_delay_value_ = last.delay;
            const auto r = attempt_report_of(i);
            const auto at = core::clock::now() - trace.started;
            notify_observer([&](dial_observer& o) { o.delay_shortened({id, at}, i, r); });
        }
    }
    observe_ends(started_before, trace.attempts.size());
    touched_.clear();
}

// Attempt ends among touched_ with ids in [from, to), each told once.
void dial_core::observe_ends(std::size_t from, std::size_t to) {
    const auto& trace = engine_.trace();
    const auto id = dial_id(this);
    for (const auto i : touched_) {
        if (i < from || i >= to || trace.attempts[i].outcome == core::attempt_outcome::pending) {
            continue;
        }
        if (observed_ended_.size() <= i) {
            observed_ended_.resize(i + 1, false);
        }
        if (observed_ended_[i]) {
            continue;
        }
        observed_ended_[i] = true;
        const auto r = attempt_report_of(i);
        const auto at = r.ended.value_or(r.started);
        if (r.outcome == core::attempt_outcome::won) {
            const auto stage =
                r.tcp_connected ? attempt_stage::handshake : attempt_stage::tcp_connect;
            notify_observer([&](dial_observer& o) { o.stage_done({id, at}, i, stage); });
        }
        notify_observer([&](dial_observer& o) { o.attempt_ended({id, at}, i, r); });
    }
}

// The dial is over: the endpoints it never reached, then the complete report.
void dial_core::observe_end(const dial_report& report) {
    const dial_event event{dial_id(this), report.elapsed};
    for (const auto& answer : report.answers) {
        for (const auto& e : answer.endpoints) {
            if (e.fate == endpoint_fate::never_tried) {
                notify_observer([&](dial_observer& o) { o.endpoint_never_tried(event, e); });
            }
        }
    }
    notify_observer([&](dial_observer& o) { o.dial_done(event, report); });
}

attempt_report dial_core::attempt_report_of(core::attempt_id i) const {
    const auto& trace = engine_.trace();
    auto r = make_attempt_report(trace.attempts[i], trace.started);
    if (i < locals_.size()) {
        r.local = locals_[i];
    }
    add_stages(i, r);
    r.nat64_from = nat64_origin(r.endpoint);
    return r;
}

// The stages attempt `id` finished, with when and how.
void dial_core::add_stages(core::attempt_id id, attempt_report& r) const {
    const auto started = engine_.trace().started;
    for (const auto& e : stage_ends_) {
        if (e.attempt == id) {
            r.stages.push_back(
                stage_report{std::string(stages_[e.stage]->name()), e.at - started, e.error});
        }
    }
}

}  // namespace happy_dial::detail

namespace happy_dial {

template <>
void detail::attempt_completion<detail::attempt_step::connect>::operator()(
    boost::system::error_code ec) {
    if (auto core = std::move(core_)) {
        auto* c = core.get();
        c->on_connect(std::move(core), id_, ec);
    }
}

template <>
void detail::attempt_completion<detail::attempt_step::stage>::operator()(
    boost::system::error_code ec) {
    if (auto core = std::move(core_)) {
        auto* c = core.get();
        c->on_stage_done(std::move(core), id_, ec);
    }
}

}  // namespace happy_dial
