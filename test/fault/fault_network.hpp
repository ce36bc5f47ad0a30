// A scripted network for the fault matrix: like testing::mock_network, plus a step counter and
// fault injection at any step (Beast's fail_count, Boost.MySQL's check_network_errors).
//
// A "step" is one completion the network hands back to a dial: a lookup answer or the outcome
// of a connect. Each dial of a script goes through the same steps; the matrix reruns it, and at
// step n (or at the n-th connect, setup-hook call or lookup) injects one fault. Single-threaded:
// use it on an io_context run by one thread.
#pragma once

#include "op/loopback.hpp"

#include <happy_dial/detail/system_lookup.hpp>
#include <happy_dial/dial_options.hpp>
#include <happy_dial/error.hpp>
#include <happy_dial/testing/mock_network.hpp>
#include <happy_dial/transport.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace happy_dial::test {

using std::chrono::milliseconds;
using testing::behaviour;

/// The errors the matrix injects: distinct from every scripted one, so a test can tell them apart.
inline const boost::system::error_code injected_connect_error =
    boost::asio::error::network_unreachable;
inline const boost::system::error_code injected_setup_error = boost::asio::error::access_denied;
inline const boost::system::error_code injected_lookup_error =
    boost::asio::error::host_not_found_try_again;

enum class step_kind { lookup, connect };

/// One completion about to be handed to the dial.
struct step_info {
    std::size_t index = 0;
    step_kind kind = step_kind::lookup;
    /// A connect the dial already cancelled (its report is stale): the dial's outcome was decided
    /// before this step, so a fault injected here cannot change it.
    bool late = false;
};

class fault_network final : public dial_transport,
                            public std::enable_shared_from_this<fault_network> {
  public:
    /// "connects" endpoints are served by `listener` (IPv4 loopback), so the winner is a real
    /// connected socket.
    static std::shared_ptr<fault_network> create(boost::asio::any_io_executor executor,
                                                 tcp::endpoint listener) {
        return std::make_shared<fault_network>(std::move(executor), listener);
    }

    fault_network(boost::asio::any_io_executor executor, tcp::endpoint listener)
        : executor_(std::move(executor)), listener_(listener) {}

    // --- the script ---
    void answer(core::address_family family,
                std::vector<std::string> addresses,
                milliseconds delay) {
        answers_[family] = {std::move(addresses), delay};
    }
    void endpoint(const std::string& address,
                  unsigned short port,
                  behaviour how,
                  milliseconds delay) {
        endpoints_[tcp::endpoint(asio::ip::make_address(address), port)] = {how, delay};
    }
    behaviour behaviour_of(const tcp::endpoint& target) const {
        auto it = endpoints_.find(target);
        return it == endpoints_.end() ? behaviour::unreachable : it->second.how;
    }

    // --- the faults (at most one of them per run) ---
    std::optional<std::size_t> fail_lookup;   ///< this lookup answers injected_lookup_error
    std::optional<std::size_t> fail_connect;  ///< this connect fails with injected_connect_error
    std::optional<std::size_t> fail_hook;     ///< this setup-hook call sets injected_setup_error
    /// From this step on, every live completion is withheld (the network goes silent) until the
    /// dial cancels the connect: used to make the deadline expire "at" that step.
    std::optional<std::size_t> freeze_at;
    /// Called before each step is handed over (the test cancels or stops the context here).
    std::function<void(const step_info&)> on_step;

    /// `base` with this network as transport and its setup hook installed.
    dial_options options(dial_options base) {
        base.transport = shared_from_this();
        std::weak_ptr<fault_network> weak = shared_from_this();
        base.socket_setup = [weak](
                                tcp::socket&, const tcp::endpoint&, boost::system::error_code& ec) {
            if (auto self = weak.lock()) {
                if (self->fail_hook && *self->fail_hook == self->hooks_) {
                    ec = injected_setup_error;
                    self->fired_ = true;
                }
                ++self->hooks_;
            }
        };
        return base;
    }

    // --- what happened ---
    struct connect_record {
        tcp::endpoint target;
        std::size_t issued_before_step = 0;       ///< steps handed over when the connect was issued
        std::optional<std::size_t> completed_at;  ///< its step, once handed over
    };
    const std::vector<connect_record>& connects() const { return connects_; }
    std::size_t lookups() const { return lookups_; }
    std::size_t hooks() const { return hooks_; }
    std::size_t steps() const { return steps_; }
    /// Whether a lookup, connect or hook fault fired, or the freeze withheld something.
    bool fired() const { return fired_; }
    /// Connects not yet handed back (pending or withheld).
    std::size_t pending_connects() const { return pending_.size(); }

    /// Drops every withheld connect completion (breaking the dial <-> network cycle they form
    /// if a dial never cancelled them) and hands the withheld lookup answers over (after the
    /// dial ended they must be dropped by the dial).
    void release_withheld() {
        for (auto& [socket, rec] : pending_) {
            rec.withheld = connect_completion();
        }
        release_withheld_lookups();
    }

    /// Hands the withheld lookup answers over (after the dial ended, they must be dropped).
    void release_withheld_lookups() {
        auto withheld = std::move(withheld_lookups_);
        withheld_lookups_.clear();
        for (auto& f : withheld) {
            f();
        }
    }

    // --- dial_transport ---
    void async_lookup(const lookup_query& query, answer_handler done) override {
        const std::size_t index = lookups_++;
        const auto script = answers_[query.family];
        core::resolution_answer answer{query.family, {}, {}};
        if (fail_lookup && *fail_lookup == index) {
            answer.error = injected_lookup_error;
            fired_ = true;
        } else {
            if (const auto port = detail::service_port(query.service)) {
                for (const auto& a : script.addresses) {
                    answer.endpoints.emplace_back(asio::ip::make_address(a), *port);
                }
            } else {
                answer.error = error::invalid_service;
            }
        }
        auto timer = std::make_shared<asio::steady_timer>(executor_, script.delay);
        timer->async_wait(
            [self = shared_from_this(), timer, done = std::move(done), answer = std::move(answer)](
                boost::system::error_code) mutable {
                self->hand_over_answer(std::move(done), std::move(answer));
            });
    }

    void async_connect(tcp::socket& socket,
                       const tcp::endpoint& target,
                       connect_completion done) override {
        const std::size_t index = connects_.size();
        connects_.push_back({target, steps_, std::nullopt});
        script_endpoint script;
        if (auto it = endpoints_.find(target); it != endpoints_.end()) {
            script = it->second;
        }
        const bool inject = fail_connect && *fail_connect == index;
        fired_ = fired_ || inject;
        auto timer = std::make_shared<asio::steady_timer>(socket.get_executor());
        if (inject) {
            timer->expires_after(milliseconds(2));
        } else if (script.how == behaviour::never) {
            timer->expires_at(asio::steady_timer::time_point::max());
        } else {
            timer->expires_after(script.delay);
        }
        pending_[&socket] = pending_connect{index, timer, false, {}};
        timer->async_wait([self = shared_from_this(),
                           timer,
                           &socket,
                           how = script.how,
                           inject,
                           done = std::move(done)](boost::system::error_code ec) mutable {
            if (ec) {
                self->hand_over_connect(socket, asio::error::operation_aborted, std::move(done));
            } else if (inject) {
                self->hand_over_connect(socket, injected_connect_error, std::move(done));
            } else if (how == behaviour::refuses) {
                self->hand_over_connect(socket, asio::error::connection_refused, std::move(done));
            } else if (how == behaviour::unreachable) {
                self->hand_over_connect(socket, asio::error::host_unreachable, std::move(done));
            } else {
                self->reach_listener(socket, std::move(done));
            }
        });
    }

    void cancel_connect(tcp::socket& socket) override {
        auto it = pending_.find(&socket);
        if (it == pending_.end()) {
            return;
        }
        it->second.cancelled = true;
        if (auto timer = it->second.timer.lock()) {
            timer->cancel();
        }
        if (it->second.withheld) {
            // A withheld completion is handed over now, as aborted (never inline: the dial is
            // inside its own handler).
            auto done = std::move(it->second.withheld);
            asio::post(executor_,
                       [self = shared_from_this(), &socket, done = std::move(done)]() mutable {
                           self->hand_over_connect(
                               socket, asio::error::operation_aborted, std::move(done));
                       });
        }
    }

  private:
    struct script_answer {
        std::vector<std::string> addresses;
        milliseconds delay{0};
    };
    struct script_endpoint {
        behaviour how = behaviour::unreachable;
        milliseconds delay{0};
    };
    struct pending_connect {
        std::size_t index = 0;
        std::weak_ptr<asio::steady_timer> timer;  // owned by its own wait handler only
        bool cancelled = false;
        connect_completion withheld;
    };

    step_info next_step(step_kind kind, bool late) {
        step_info info{steps_++, kind, late};
        if (on_step) {
            on_step(info);
        }
        return info;
    }

    bool frozen(const step_info& info) const {
        return freeze_at && info.index >= *freeze_at && !info.late;
    }

    void hand_over_answer(answer_handler done, core::resolution_answer answer) {
        const auto info = next_step(step_kind::lookup, false);
        if (frozen(info)) {
            fired_ = true;
            withheld_lookups_.push_back(
                [done = std::move(done), answer = std::move(answer)]() mutable {
                    done(std::move(answer));
                });
            return;
        }
        done(std::move(answer));
    }

    void hand_over_connect(tcp::socket& socket,
                           boost::system::error_code ec,
                           connect_completion done) {
        auto it = pending_.find(&socket);
        const bool late = it == pending_.end() || it->second.cancelled;
        const auto info = next_step(step_kind::connect, late);
        it = pending_.find(&socket);  // on_step may have run anything
        if (it != pending_.end()) {
            if (frozen(info)) {
                fired_ = true;
                it->second.withheld = std::move(done);
                return;
            }
            connects_[it->second.index].completed_at = info.index;
            pending_.erase(it);
        }
        done(ec);
    }

    // A "connects" endpoint: a real connection to the loopback listener.
    void reach_listener(tcp::socket& socket, connect_completion done) {
        boost::system::error_code ec;
        if (socket.local_endpoint(ec).protocol() != listener_.protocol() || ec) {
            socket.close(ec);
            socket.open(listener_.protocol(), ec);
            if (ec) {
                hand_over_connect(socket, ec, std::move(done));
                return;
            }
        }
        socket.async_connect(listener_,
                             [self = shared_from_this(), &socket, done = std::move(done)](
                                 boost::system::error_code result) mutable {
                                 self->hand_over_connect(socket, result, std::move(done));
                             });
    }

    boost::asio::any_io_executor executor_;
    tcp::endpoint listener_;
    std::map<core::address_family, script_answer> answers_;
    std::map<tcp::endpoint, script_endpoint> endpoints_;
    std::map<const tcp::socket*, pending_connect> pending_;
    std::vector<std::function<void()>> withheld_lookups_;
    std::vector<connect_record> connects_;
    std::size_t lookups_ = 0;
    std::size_t hooks_ = 0;
    std::size_t steps_ = 0;
    bool fired_ = false;
};

}  // namespace happy_dial::test
