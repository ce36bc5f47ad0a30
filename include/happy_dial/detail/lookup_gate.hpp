// Lets resolver threads hand answers to a dial without ever touching a dead execution context.
#pragma once

#include <happy_dial/core/dial_engine.hpp>

#include <boost/asio/execution_context.hpp>

#include <functional>
#include <memory>
#include <mutex>

namespace happy_dial::detail {

/// One per execution context. Its shutdown (the first step of the context's destruction, before
/// any handler is destroyed) closes the gate; resolver threads post only while it is open and
/// while holding its mutex.
class lookup_gate final : public boost::asio::execution_context::service {
  public:
    using key_type = lookup_gate;
    inline static boost::asio::execution_context::id id;

    struct state {
        std::mutex mutex;
        bool open = true;
    };

    explicit lookup_gate(boost::asio::execution_context& context)
        : boost::asio::execution_context::service(context), state_(std::make_shared<state>()) {}

    const std::shared_ptr<state>& shared() const noexcept { return state_; }

  private:
    void shutdown() override {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->open = false;
    }

    std::shared_ptr<state> state_;
};

/// One outstanding lookup of one dial, shared by the dial and whoever resolves.
struct lookup_ticket {
    using deliver_fn = std::function<void(std::shared_ptr<lookup_ticket>, core::resolution_answer)>;

    std::shared_ptr<lookup_gate::state> gate;
    /// Guarded by gate->mutex. Posts the answer to the dial's executor; reset by the dial when
    /// it ends or is destroyed (always inside its execution context), so executor copies it
    /// holds are never destroyed by a resolver thread after the context is gone.
    deliver_fn deliver;
    /// Guarded by gate->mutex: the dial waiting for the answer, or null once it ended or took
    /// the answer.
    void* target = nullptr;

    /// Called by a resolver, from any thread: forwards the answer if its dial still waits.
    static void answer(const std::shared_ptr<lookup_ticket>& ticket,
                       core::resolution_answer result) {
        std::lock_guard<std::mutex> lock(ticket->gate->mutex);
        if (ticket->gate->open && ticket->deliver) {
            ticket->deliver(ticket, std::move(result));
        }
    }

    /// Called by the dial (inside its context) when it no longer wants the answer.
    void release() {
        deliver_fn dropped;
        {
            std::lock_guard<std::mutex> lock(gate->mutex);
            target = nullptr;
            dropped.swap(deliver);
        }
    }
};

}  // namespace happy_dial::detail
