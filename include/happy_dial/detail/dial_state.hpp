// The Asio side of a dial: translates the engine's actions into I/O and I/O into events.
#pragma once

#include <happy_dial/core/dial_engine.hpp>
#include <happy_dial/detail/attempt_sockets.hpp>
#include <happy_dial/detail/connect_probe.hpp>
#include <happy_dial/detail/lookup_gate.hpp>
#include <happy_dial/detail/recycling_state_allocator.hpp>
#include <happy_dial/detail/system_lookup.hpp>
#include <happy_dial/dial_options.hpp>
#include <happy_dial/dial_report.hpp>
#include <happy_dial/error.hpp>
#include <happy_dial/transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace happy_dial::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// What to dial: a host and service to resolve, or a list of endpoints.
struct dial_request {
    std::string host;
    std::string service;
    core::small_vector<tcp::endpoint, 2> endpoints;
    bool resolve = true;
};

/// Completes a dial by handing the socket back: void(error_code, tcp::socket).
struct return_socket {
    template <class Handler>
    void operator()(Handler&& handler,
                    boost::system::error_code ec,
                    tcp::socket socket,
                    const tcp::endpoint&) {
        std::move(handler)(ec, std::move(socket));
    }
};

/// Completes a dial by moving the socket into the caller's: void(error_code, tcp::endpoint),
/// like asio::async_connect (on failure the caller's socket is left closed).
struct fill_socket {
    tcp::socket* target;
    template <class Handler>
    void operator()(Handler&& handler,
                    boost::system::error_code ec,
                    tcp::socket socket,
                    const tcp::endpoint& endpoint) {
        boost::system::error_code ignored;
        target->close(ignored);
        if (!ec) {
            *target = std::move(socket);
        }
        std::move(handler)(ec, ec ? tcp::endpoint{} : endpoint);
    }
};

/// One dial in flight. Shared by its pending child handlers (connects, the engine's timer, a
/// keep-alive timer while lookups run); every member is touched only with `mutex_` held, so
/// child handlers run directly on the I/O executor, on any thread, without a strand hop. The
/// user's handler is called once, after every child handler returned and the state was freed.
template <class Handler, class Finisher>
class dial_state final : public std::enable_shared_from_this<dial_state<Handler, Finisher>> {
    using self_ptr = std::shared_ptr<dial_state>;
    using lock_type = std::unique_lock<std::mutex>;
    using handler_executor = asio::associated_executor_t<Handler, asio::any_io_executor>;

  public:
    dial_state(asio::any_io_executor io_executor,
               Handler handler,
               Finisher finisher,
               const dial_options& options,
               core::engine_config&& config)
        : io_executor_(std::move(io_executor)),
          handler_(std::move(handler)),
          finisher_(std::move(finisher)),
          options_(options),
          config_error_(core::validate(config)),
          engine_(std::move(config)) {
        // Like Asio's own operations: the handler's executor is tracked only when it is not
        // the I/O executor (whose pending operations already count as work), and the I/O
        // executor's work is counted only while a custom transport, whose operations Asio
        // does not see, is in use.
        auto handler_ex = asio::get_associated_executor(handler_, io_executor_);
        if (!same_executor(handler_ex, io_executor_)) {
            handler_work_.emplace(std::move(handler_ex));
        }
        if (options_.transport) {
            io_work_.emplace(io_executor_);
        }
    }

    dial_state(const dial_state&) = delete;
    dial_state& operator=(const dial_state&) = delete;

    ~dial_state() { release_lookups(); }

    /// Called by the initiating function: starts the dial right here (the first connect is
    /// initiated before it returns) but never completes inside it.
    void launch(dial_request&& request) {
        request_ = std::move(request);
        auto slot = asio::get_associated_cancellation_slot(handler_);
        if (slot.is_connected()) {
            slot.template emplace<cancel_handler>(this);
        }
        auto self = this->shared_from_this();
        lock_type lock(mutex_);
        begin(self);
        if (done_ && outstanding_ == 0) {
            // Finished already (bad input, every attempt failed at once): complete through the
            // executor, as if a child handler had finished.
            ++outstanding_;
            asio::post(io_executor_, bind([self = std::move(self)]() mutable {
                           auto* s = self.get();
                           lock_type l(s->mutex_);
                           --s->outstanding_;
                           s->maybe_complete(std::move(self), l);
                       }));
        }
    }

  private:
    template <class Executor>
    static bool same_executor(const Executor& a, const asio::any_io_executor& b) {
        if constexpr (std::is_same_v<Executor, asio::any_io_executor>) {
            return a == b;
        } else {
            return false;
        }
    }

    struct cancel_handler {
        dial_state* state;
        void operator()(asio::cancellation_type type) const { state->request_cancel(type); }
    };

    // Child handlers allocate with the caller's allocator and run on the I/O executor.
    template <class F>
    auto bind(F&& f) {
        return asio::bind_allocator(asio::get_associated_allocator(handler_), std::forward<F>(f));
    }

    void begin(const self_ptr& self) {
        const auto now = core::clock::now();
        started_at_ = now;
        if (config_error_) {
            fail_early(now, config_error_);
        } else if (!request_.resolve) {
            engine_.start_with_endpoints(now, request_.endpoints);
        } else {
            start_resolution(now);
        }
        run_actions(self);
    }

    // RFC 8305 §3 decisions (literal shortcut, families, AAAA first) are the engine's: it
    // answers with start_lookup actions, carried out by execute() below.
    void start_resolution(core::time_point now) {
        target_ = core::parse_target(request_.host, request_.service);
        engine_.start(now, target_);
    }

    void execute(const self_ptr&, const core::start_lookup& a) {
        auto flags = options_.resolver_flags;
        if (target_.port) {
            flags |= asio::ip::resolver_base::numeric_service;
        }
        start_lookup(lookup_query{target_.host, target_.service, a.family, flags});
        if (!keepalive_) {
            keep_alive_during_lookups();
        }
    }

    void start_lookup(lookup_query query) {
        auto ticket = std::make_shared<lookup_ticket>();
        ticket->gate =
            asio::use_service<lookup_gate>(asio::query(io_executor_, asio::execution::context))
                .shared();
        ticket->target = this;
        ticket->deliver = [executor = io_executor_](std::shared_ptr<lookup_ticket> t,
                                                    core::resolution_answer answer) {
            asio::post(executor, [t = std::move(t), answer = std::move(answer)]() mutable {
                // The dial may have ended (and be being destroyed) meanwhile: claim it under the
                // gate's mutex, which its destructor also takes.
                self_ptr self;
                {
                    std::lock_guard<std::mutex> gate(t->gate->mutex);
                    if (t->target) {
                        self = static_cast<dial_state*>(t->target)->weak_from_this().lock();
                        t->target = nullptr;
                    }
                }
                if (self) {
                    auto* s = self.get();
                    s->on_answer(std::move(self), std::move(answer));
                }
            });
        };
        tickets_.push_back(ticket);
        auto done = [ticket](core::resolution_answer answer) {
            lookup_ticket::answer(ticket, std::move(answer));
        };
        if (options_.transport) {
            options_.transport->async_lookup(query, std::move(done));
        } else {
            system_lookup(asio::query(io_executor_, asio::execution::context),
                          std::move(query),
                          std::move(done));
        }
    }

    // A lookup runs off this context and holds no reference to this state; a pending wait on
    // this timer keeps the state (and the io_context's work count) alive until the answers are
    // in or the dial ends.
    void keep_alive_during_lookups() {
        keepalive_.emplace(io_executor_);
        keepalive_->expires_at(asio::steady_timer::time_point::max());
        ++outstanding_;
        keepalive_->async_wait(
            bind([self = this->shared_from_this()](boost::system::error_code) mutable {
                auto* s = self.get();
                lock_type lock(s->mutex_);
                --s->outstanding_;
                s->maybe_complete(std::move(self), lock);
            }));
    }

    void on_answer(self_ptr self, core::resolution_answer answer) {
        lock_type lock(mutex_);
        if (++answers_ == tickets_.size() && keepalive_) {
            keepalive_->cancel();
        }
        if (!done_) {
            engine_.on_answer(core::clock::now(), std::move(answer));
            run_actions(self);
        }
        maybe_complete(std::move(self), lock);
    }

    void on_connect(self_ptr self, core::attempt_id id, boost::system::error_code ec) {
        lock_type lock(mutex_);
        --outstanding_;
        if (!done_) {
            engine_.on_attempt_result(core::clock::now(), id, ec);
            run_actions(self);
        }
        if (deferred_timer_ && deferred_timer_->attempt == id) {
            const auto deferred = *deferred_timer_;
            deferred_timer_.reset();
            // The engine still wants that wakeup (no timer action since): arm it now.
            if (!done_ && deferred.generation == timer_generation_) {
                arm_timer(self, deferred.at, deferred.generation);
            }
        }
        if (!(winner_ && *winner_ == id)) {
            boost::system::error_code ignored;
            sockets_[id].close(ignored);  // failed, or late after being cancelled
        }
        maybe_complete(std::move(self), lock);
    }

    void on_timer(self_ptr self, unsigned generation, boost::system::error_code ec) {
        lock_type lock(mutex_);
        --outstanding_;
        if (!done_ && !ec && generation == timer_generation_) {
            engine_.on_timer(core::clock::now());
            run_actions(self);
        }
        maybe_complete(std::move(self), lock);
    }

    // Called on whatever thread emits the cancellation signal, possibly from inside a hook this
    // dial is running: hand it to the executor rather than take the lock here.
    void request_cancel(asio::cancellation_type type) {
        ++pending_cancels_;
        asio::post(io_executor_, bind([self = this->shared_from_this(), type]() mutable {
                       auto* s = self.get();
                       s->on_cancel(std::move(self), type);
                   }));
    }

    void on_cancel(self_ptr self, asio::cancellation_type type) {
        lock_type lock(mutex_);
        --pending_cancels_;
        if (!done_) {
            // Terminal and total: abort everything (no socket is returned, so nothing the caller
            // can observe happened). Partial: start nothing new, let running attempts finish.
            const bool abort_all =
                (type & (asio::cancellation_type::terminal | asio::cancellation_type::total)) !=
                asio::cancellation_type::none;
            engine_.cancel(core::clock::now(),
                           abort_all ? core::cancel_kind::terminal : core::cancel_kind::partial);
            run_actions(self);
        }
        maybe_complete(std::move(self), lock);
    }

    void run_actions(const self_ptr& self) {
        while (auto next = engine_.next_action()) {
            std::visit([&](const auto& a) { execute(self, a); }, *next);
        }
        just_started_.reset();  // only a set_timer of this same batch may probe that socket
    }

    void execute(const self_ptr& self, const core::start_attempt& a) {
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
            engine_.on_attempt_result(core::clock::now(), a.id, ec);  // actions queue behind
            return;
        }
        ++outstanding_;
        // A by-copy capture of `const self_ptr&` would be a const member that std::move cannot
        // empty, keeping the state alive past the upcall: copy into a mutable one.
        auto on_done = [self = self_ptr(self),
                        id = a.id](boost::system::error_code result) mutable {
            auto* s = self.get();
            s->on_connect(std::move(self), id, result);
        };
        if (options_.transport) {
            options_.transport->async_connect(
                socket, a.target, [executor = io_executor_, on_done](boost::system::error_code r) {
                    asio::post(executor, [on_done, r]() mutable { on_done(r); });
                });
        } else {
            socket.async_connect(a.target, bind(std::move(on_done)));
            just_started_ = a.id;
        }
    }

    void execute(const self_ptr&, const core::cancel_attempt& a) {
        if (options_.transport) {
            options_.transport->cancel_connect(sockets_[a.id]);
        }
        boost::system::error_code ignored;
        sockets_[a.id].close(ignored);  // aborts the pending connect and frees the fd now
    }

    void execute(const self_ptr& self, const core::set_timer& a) {
        const unsigned generation = ++timer_generation_;  // an earlier wait's handler is stale
        // The attempt started in this same step already connected or failed (loopback does
        // the handshake inside connect()): its completion is due at the reactor's next pass
        // and the engine will decide again then. Arming the timer now would cost a timer
        // syscall, and cancelling it another scheduler pass, for a wakeup that is almost never
        // needed; on_connect arms it if the engine still wants it.
        if (just_started_ && connect_settled(sockets_[*just_started_])) {
            deferred_timer_ = deferred_timer{a.at, generation, *just_started_};
            return;
        }
        arm_timer(self, a.at, generation);
    }

    void arm_timer(const self_ptr& self, core::time_point at, unsigned generation) {
        if (!timer_) {
            timer_.emplace(io_executor_);
        }
        timer_->expires_at(at);  // cancels an earlier wait, whose handler then sees a stale gen
        ++outstanding_;
        timer_->async_wait(
            bind([self = self_ptr(self), generation](boost::system::error_code ec) mutable {
                auto* s = self.get();
                s->on_timer(std::move(self), generation, ec);
            }));
    }

    void execute(const self_ptr&, const core::cancel_timer&) {
        ++timer_generation_;
        if (timer_) {
            timer_->cancel();
        }
    }

    void execute(const self_ptr&, const core::dial_done& a) {
        finish(core::clock::now(), a.error, a.winner);
    }

    void fail_early(core::time_point now, boost::system::error_code ec) {
        finish(now, ec, std::nullopt);
    }

    void finish(core::time_point now,
                boost::system::error_code ec,
                std::optional<core::attempt_id> winner) {
        done_ = true;
        finished_at_ = now;
        result_ = ec;
        winner_ = winner;
        if (winner) {
            result_endpoint_ = engine_.trace().attempts[*winner].target;
            result_socket_.emplace(std::move(sockets_[*winner]));
        }
        ++timer_generation_;
        if (timer_) {
            timer_->cancel();
        }
        if (keepalive_) {
            keepalive_->cancel();
        }
        release_lookups();
    }

    void release_lookups() {
        for (auto& ticket : tickets_) {
            ticket->release();
        }
    }

    void maybe_complete(self_ptr self, lock_type& lock) {
        if (done_ && !completed_ && outstanding_ == 0 && pending_cancels_ == 0) {
            complete(std::move(self), lock);
        }
    }

    dial_report make_dial_report() const {
        if (!engine_.done()) {  // failed before the engine started (bad input)
            dial_report r;
            r.error = result_;
            r.elapsed = finished_at_ - started_at_;
            return r;
        }
        return make_report(engine_.trace(), finished_at_, result_, winner_);
    }

    // Frees the state, then calls the handler on its associated executor.
    void complete(self_ptr self, lock_type& lock) {
        completed_ = true;
        auto slot = asio::get_associated_cancellation_slot(handler_);
        if (slot.is_connected()) {
            slot.clear();
        }
        if (options_.report) {
            *options_.report = make_dial_report();
        }
        auto handler = std::move(handler_);
        auto finisher = std::move(finisher_);
        const auto ec = result_;
        const auto endpoint = result_endpoint_;
        tcp::socket socket =
            result_socket_ ? std::move(*result_socket_) : tcp::socket(io_executor_);
        if (!handler_work_) {
            lock.unlock();  // nothing else can reach the state now: no handler is pending
            self.reset();   // the last reference: losers' sockets, timers, engine are gone now
            // This runs in a handler on the I/O executor, which is the handler's executor:
            // dispatching there would call it inline, so call it directly (as Asio's own
            // operations do), without wrapping it in a type-erased function.
            finisher(std::move(handler), ec, std::move(socket), endpoint);
            return;
        }
        auto handler_work = std::move(*handler_work_);
        lock.unlock();
        self.reset();
        // The wrapper is not bound to the caller's allocator, so none of its memory is in use
        // when the handler runs.
        asio::dispatch(handler_work.get_executor(),
                       [handler = std::move(handler),
                        finisher = std::move(finisher),
                        ec,
                        socket = std::move(socket),
                        endpoint]() mutable {
                           finisher(std::move(handler), ec, std::move(socket), endpoint);
                       });
        handler_work.reset();
    }

    asio::any_io_executor io_executor_;
    std::mutex mutex_;
    Handler handler_;
    Finisher finisher_;
    dial_options options_;
    boost::system::error_code config_error_;
    core::dial_engine engine_;
    dial_request request_;
    core::dial_target target_;
    // Created on first use: a dial whose first attempt connects at once needs neither, and an
    // I/O object constructed from an any_io_executor costs a std::any allocation and a
    // service-registry lookup.
    std::optional<asio::steady_timer> timer_;
    std::optional<asio::steady_timer> keepalive_;
    std::optional<asio::executor_work_guard<asio::any_io_executor>> io_work_;
    std::optional<asio::executor_work_guard<handler_executor>> handler_work_;
    attempt_sockets sockets_;
    std::vector<std::shared_ptr<lookup_ticket>> tickets_;
    std::size_t answers_ = 0;
    int outstanding_ = 0;  // child handlers not yet run
    std::atomic<int> pending_cancels_{0};
    unsigned timer_generation_ = 0;
    bool done_ = false;
    bool completed_ = false;
    core::time_point started_at_{};
    core::time_point finished_at_{};
    boost::system::error_code result_;
    std::optional<core::attempt_id> winner_;
    std::optional<tcp::socket> result_socket_;
    // The attempt started by the action being executed, for set_timer to probe.
    std::optional<core::attempt_id> just_started_;
    struct deferred_timer {
        core::time_point at;
        unsigned generation;
        core::attempt_id attempt;  // armed when this attempt's completion arrives
    };
    std::optional<deferred_timer> deferred_timer_;
    tcp::endpoint result_endpoint_;
};

/// Allocates a dial's state with the handler's associated allocator and starts it.
template <class Finisher, class Handler>
void launch_dial(Handler&& handler,
                 asio::any_io_executor executor,
                 Finisher finisher,
                 dial_request&& request,
                 const dial_options& options) {
    using state_type = dial_state<std::decay_t<Handler>, Finisher>;
    auto alloc = asio::get_associated_allocator(handler);
    auto make_state = [&](const auto& allocator) {
        return std::allocate_shared<state_type>(allocator,
                                                std::move(executor),
                                                std::forward<Handler>(handler),
                                                std::move(finisher),
                                                options,
                                                to_engine_config(options));
    };
    std::shared_ptr<state_type> state;
    if constexpr (std::is_same_v<decltype(alloc), std::allocator<void>>) {
        state = make_state(recycling_state_allocator<state_type>{});  // no allocator of its own
    } else {
        state = make_state(alloc);
    }
    state->launch(std::move(request));
}

struct initiate_dial {
    template <class Handler>
    void operator()(Handler&& handler,
                    asio::any_io_executor executor,
                    dial_request request,
                    const dial_options& options) const {
        launch_dial(std::forward<Handler>(handler),
                    std::move(executor),
                    return_socket{},
                    std::move(request),
                    options);
    }
};

struct initiate_connect {
    template <class Handler>
    void operator()(Handler&& handler,
                    tcp::socket* socket,
                    dial_request request,
                    const dial_options& options) const {
        launch_dial(std::forward<Handler>(handler),
                    socket->get_executor(),
                    fill_socket{socket},
                    std::move(request),
                    options);
    }
};

}  // namespace happy_dial::detail
