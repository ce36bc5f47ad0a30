// The thin template of a dial: owns the caller's handler, its work, its cancellation slot and
// the completion; everything else is dial_core, compiled once.
#pragma once

#include <happy_dial/detail/dial_core.hpp>
#include <happy_dial/detail/recycling_state_allocator.hpp>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace happy_dial::detail {

/// The allocator a dial's memory comes from: the handler's associated allocator, or a
/// per-thread recycled block when the handler has none.
template <class Handler>
using dial_allocator_t = boost::asio::associated_allocator_t<Handler>;

template <class Handler, class Finisher>
class dial_op final : public dial_core {
    using io_executor_type = boost::asio::any_io_executor;
    using handler_executor_type = boost::asio::associated_executor_t<Handler, io_executor_type>;
    using handler_allocator_type = dial_allocator_t<Handler>;
    static constexpr bool default_allocator =
        std::is_same_v<handler_allocator_type, std::allocator<void>>;

  public:
    template <class H>
    dial_op(io_executor_type io_executor,
            H&& handler,
            Finisher finisher,
            const dial_options& options)
        : dial_core(std::move(io_executor), options),
          handler_(std::forward<H>(handler)),
          finisher_(std::move(finisher)) {
        // Like Asio's own operations: the handler's executor is tracked only when it is not
        // the I/O executor, whose pending operations already count as work.
        auto handler_ex = boost::asio::get_associated_executor(handler_, this->io_executor());
        if (!same_executor(handler_ex, this->io_executor())) {
            work_.emplace(std::move(handler_ex));
        }
    }

    /// Installs the cancellation handler and starts the dial.
    void launch(dial_request&& request) {
        auto slot = boost::asio::get_associated_cancellation_slot(handler_);
        if (slot.is_connected()) {
            slot.template emplace<cancel_handler>(this);
        }
        start(std::move(request));
    }

    void* allocate(std::size_t size, std::size_t) override {
        if constexpr (default_allocator) {
            return boost::asio::recycling_allocator<unsigned char>().allocate(size);
        } else {
            return rebound_allocator<unsigned char>().allocate(size);
        }
    }

    void deallocate(void* p, std::size_t size, std::size_t) noexcept override {
        auto* bytes = static_cast<unsigned char*>(p);
        if constexpr (default_allocator) {
            boost::asio::recycling_allocator<unsigned char>().deallocate(bytes, size);
        } else {
            rebound_allocator<unsigned char>().deallocate(bytes, size);
        }
    }

    /// The allocator for this operation's own block.
    static auto state_allocator(const Handler& handler) {
        if constexpr (default_allocator) {
            return recycling_state_allocator<dial_op>{};
        } else {
            using traits = std::allocator_traits<handler_allocator_type>;
            return typename traits::template rebind_alloc<dial_op>(
                boost::asio::get_associated_allocator(handler));
        }
    }

  private:
    struct cancel_handler {
        explicit cancel_handler(dial_op* op) noexcept : op_(op) {}
        void operator()(boost::asio::cancellation_type type) const {
            op_->on_cancellation_signal(type);
        }
        dial_op* op_;
    };

    template <class Executor>
    static bool same_executor(const Executor& a, const io_executor_type& b) {
        if constexpr (std::is_same_v<Executor, io_executor_type>) {
            return a == b;
        } else {
            return false;
        }
    }

    template <class T>
    auto rebound_allocator() const {
        using traits = std::allocator_traits<handler_allocator_type>;
        return typename traits::template rebind_alloc<T>(
            boost::asio::get_associated_allocator(handler_));
    }

    // Frees this operation, then calls the handler on its associated executor.
    void complete(std::shared_ptr<dial_core> self,
                  dial_result result,
                  bool inline_allowed) override {
        auto slot = boost::asio::get_associated_cancellation_slot(handler_);
        if (slot.is_connected()) {
            slot.clear();
        }
        auto handler = std::move(handler_);
        auto finisher = std::move(finisher_);
        auto io_ex = this->io_executor();
        if (!result.socket) {
            result.socket.emplace(io_ex);
        }
        auto upcall = [handler = std::move(handler),
                       finisher = std::move(finisher),
                       result = std::move(result)]() mutable {
            finisher(std::move(handler), std::move(result));
        };
        if (!work_) {
            self.reset();  // the last reference: losers' sockets, timers, the engine are gone
            if (inline_allowed) {
                // This runs in a handler on the I/O executor, which is the handler's executor:
                // dispatching there would call it inline, so call it directly, as Asio's own
                // operations do.
                upcall();
            } else {
                boost::asio::post(io_ex, std::move(upcall));  // never inside the initiation
            }
            return;
        }
        auto work = std::move(*work_);
        self.reset();
        if (inline_allowed) {
            boost::asio::dispatch(work.get_executor(), std::move(upcall));
        } else {
            boost::asio::post(work.get_executor(), std::move(upcall));
        }
    }

    Handler handler_;
    Finisher finisher_;
    std::optional<boost::asio::executor_work_guard<handler_executor_type>> work_;
};

/// Allocates a dial with the handler's associated allocator and starts it.
template <class Finisher, class Handler>
void launch_dial(Handler&& handler,
                 boost::asio::any_io_executor io_executor,
                 Finisher finisher,
                 dial_request&& request,
                 const dial_options& options) {
    using op_type = dial_op<std::decay_t<Handler>, Finisher>;
    auto op = std::allocate_shared<op_type>(op_type::state_allocator(handler),
                                            std::move(io_executor),
                                            std::forward<Handler>(handler),
                                            std::move(finisher),
                                            options);
    op->launch(std::move(request));
}

}  // namespace happy_dial::detail
