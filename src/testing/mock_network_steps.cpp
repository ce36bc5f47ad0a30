// The steps of mock_network: lookups and connects, each handed back to its dial as one step
// (where the faults of the script are injected); the script itself is in mock_network.cpp.
#include <happy_dial/detail/system_lookup.hpp>
#include <happy_dial/error.hpp>
#include <happy_dial/testing/mock_network.hpp>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

namespace happy_dial::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

void mock_network::async_lookup(const lookup_query& query, answer_handler done) {
    scripted_answer script{{}, {}, asio::error::host_not_found, false};
    std::optional<boost::system::error_code> injected;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto index = lookups_.size();
        lookups_.push_back({query.host, query.family, std::chrono::steady_clock::now()});
        if (auto it = answers_.find({query.host, query.family}); it != answers_.end()) {
            script = it->second;
        }
        if (fail_lookup_ && fail_lookup_->at == index) {
            injected = fail_lookup_->error;
            fired_ = true;
        }
    }
    if (script.never && !injected) {
        return;  // dropping `done` is how a lost answer looks to the dial
    }
    core::resolution_answer answer{query.family, {}, script.error};
    if (injected) {
        answer.error = *injected;
    } else if (const auto port = detail::service_port(query.service)) {
        // Service names resolve as getaddrinfo resolves them (issue 11: std::stoul threw out
        // of async_dial for "https"); an unknown one fails the lookup like the real network's.
        for (const auto& a : script.addresses) {
            answer.endpoints.emplace_back(asio::ip::make_address(a), *port);
        }
    } else {
        answer.error = error::invalid_service;
    }
    auto timer = std::make_shared<asio::steady_timer>(executor_, script.delay);
    timer->async_wait(
        [self = shared_from_this(), timer, done = std::move(done), answer = std::move(answer)](
            boost::system::error_code) mutable {
            self->hand_over_answer(std::move(done), std::move(answer));
        });
}

// Always `pending`: every scripted outcome arrives through a timer, as the network's would.
connect_progress mock_network::async_connect(tcp::socket& socket,
                                             const tcp::endpoint& target,
                                             connect_completion done) {
    scripted_endpoint script;
    std::optional<boost::system::error_code> injected;
    auto timer = std::make_shared<asio::steady_timer>(socket.get_executor());
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto index = connects_.size();
        connects_.push_back({target, std::chrono::steady_clock::now(), steps_, std::nullopt});
        if (auto it = endpoints_.find(target); it != endpoints_.end()) {
            script = it->second;
        }
        if (fail_connect_ && fail_connect_->at == index) {
            injected = fail_connect_->error;
            fired_ = true;
        }
        pending_[&socket] = pending_connect{index, timer, false, {}};
    }
    if (injected) {
        timer->expires_after(std::chrono::milliseconds(2));
    } else if (script.how == behaviour::never) {
        timer->expires_at(asio::steady_timer::time_point::max());
    } else {
        timer->expires_after(script.delay);
    }
    timer->async_wait([self = shared_from_this(),
                       timer,
                       &socket,
                       target,
                       how = script.how,
                       injected,
                       done = std::move(done)](boost::system::error_code ec) mutable {
        if (ec) {
            self->hand_over_connect(socket, asio::error::operation_aborted, std::move(done));
        } else if (injected) {
            self->hand_over_connect(socket, *injected, std::move(done));
        } else if (how == behaviour::refuses) {
            self->hand_over_connect(socket, asio::error::connection_refused, std::move(done));
        } else if (how == behaviour::unreachable) {
            self->hand_over_connect(socket, asio::error::host_unreachable, std::move(done));
        } else {
            self->reach_listener(socket, target, std::move(done));
        }
    });
    return connect_progress::pending;
}

// A "connects" endpoint: hand the attempt a real connection to the kit's own listener.
void mock_network::reach_listener(tcp::socket& socket,
                                  const tcp::endpoint& target,
                                  connect_completion done) {
    const auto listener = listener_for(target);
    boost::system::error_code ec;
    if (socket.local_endpoint(ec).protocol() != listener.protocol() || ec) {
        socket.close(ec);
        socket.open(listener.protocol(), ec);
        if (ec) {
            hand_over_connect(socket, ec, std::move(done));
            return;
        }
    }
    // The connect allocates with the dial's allocator, as the real network's does.
    const auto allocator = done.get_allocator();
    socket.async_connect(
        listener,
        asio::bind_allocator(allocator,
                             [self = shared_from_this(), &socket, done = std::move(done)](
                                 boost::system::error_code result) mutable {
                                 self->hand_over_connect(socket, result, std::move(done));
                             }));
}

void mock_network::cancel_connect(tcp::socket& socket) {
    std::shared_ptr<asio::steady_timer> timer;
    connect_completion withheld;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = pending_.find(&socket);
        if (it == pending_.end()) {
            return;
        }
        it->second.cancelled = true;
        timer = it->second.timer.lock();
        withheld = std::move(it->second.withheld);
    }
    if (timer) {
        timer->cancel();
    }
    if (withheld) {
        // A withheld completion is handed over now, as aborted (never inline: the dial is
        // inside its own handler).
        asio::post(
            executor_, [self = shared_from_this(), &socket, done = std::move(withheld)]() mutable {
                self->hand_over_connect(socket, asio::error::operation_aborted, std::move(done));
            });
    }
}

step_info mock_network::next_step(step_kind kind, bool late) {
    std::function<void(const step_info&)> callback;
    step_info info;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        info = step_info{steps_++, kind, late};
        callback = on_step_;
    }
    if (callback) {
        callback(info);
    }
    return info;
}

bool mock_network::frozen(const step_info& info) const {
    return freeze_at_ && info.index >= *freeze_at_ && !info.late;
}

void mock_network::hand_over_answer(answer_handler done, core::resolution_answer answer) {
    const auto info = next_step(step_kind::lookup, false);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (frozen(info)) {
            fired_ = true;
            withheld_lookups_.push_back(
                [done = std::move(done), answer = std::move(answer)]() mutable {
                    done(std::move(answer));
                });
            return;
        }
    }
    done(std::move(answer));
}

void mock_network::hand_over_connect(tcp::socket& socket,
                                     boost::system::error_code ec,
                                     connect_completion done) {
    bool late = true;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = pending_.find(&socket);
        late = it == pending_.end() || it->second.cancelled;
    }
    const auto info = next_step(step_kind::connect, late);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = pending_.find(&socket);  // the step callback may have run anything
        if (it != pending_.end()) {
            if (frozen(info)) {
                fired_ = true;
                it->second.withheld = std::move(done);
                return;
            }
            connects_[it->second.index].completed_at = info.index;
            pending_.erase(it);
        }
    }
    done(ec);
}

}  // namespace happy_dial::testing
