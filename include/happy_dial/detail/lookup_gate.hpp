// Lets lookup threads hand answers to a dial without ever touching a dead execution context.
#pragma once

#include <happy_dial/core/dial_engine.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/execution_context.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace happy_dial::detail {

class dial_core;

/// One per execution context. Its shutdown (the first step of the context's destruction, before
/// any handler is destroyed) closes the gate; lookup threads post only while it is open and
/// while holding its mutex.
class lookup_gate final : public boost::asio::execution_context::service {
  public:
    using key_type = lookup_gate;
    inline static boost::asio::execution_context::id id;

    /// Shared with the tickets, which may outlive the context.
    struct state {
        std::mutex mutex;
        bool open = true;
    };

    explicit lookup_gate(boost::asio::execution_context& context)
        : boost::asio::execution_context::service(context), state_(std::make_shared<state>()) {}

    /// The gate's state, for a new ticket.
    const std::shared_ptr<state>& shared() const noexcept { return state_; }

  private:
    void shutdown() override {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->open = false;
    }

    std::shared_ptr<state> state_;
};

/// What a lookup of a dial is for.
enum class lookup_purpose : std::uint8_t {
    origin,           ///< the dial's host
    nat64_discovery,  ///< ipv4only.arpa (RFC 7050)
    service_target,   ///< an HTTPS service's target name (RFC 9460 §3)
};

/// One outstanding lookup of one dial, shared by the dial and whoever resolves.
struct lookup_ticket {
    std::shared_ptr<lookup_gate::state> gate;  ///< the dial's context's gate
    /// Guarded by gate->mutex: the dial waiting for the answer and its I/O executor, or empty
    /// once it ended or took the answer (cleared inside the context, so a lookup thread never
    /// destroys an executor of a dead context).
    dial_core* target = nullptr;
    boost::asio::any_io_executor executor;  ///< guarded by gate->mutex, as `target`
    /// Emitted by the dial when it gives up on the answer (a resolver that can cancel does).
    boost::asio::cancellation_signal cancel;
    lookup_purpose purpose = lookup_purpose::origin;  ///< which of the dial's handlers takes it
    std::string name;                                 ///< the name looked up (for service_target)

    /// Called by a lookup, from any thread: posts the answer to its dial if it still waits.
    static void answer(const std::shared_ptr<lookup_ticket>& ticket,
                       core::resolution_answer result);

    /// Called by the dial (inside its context) when it no longer wants the answer.
    void release();
};

}  // namespace happy_dial::detail
