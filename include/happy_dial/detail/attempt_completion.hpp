// The completion handed to an attempt's connect (connect_completion) and to its handshake stage
// (stage_completion): one class template, told apart by the step it reports.
#pragma once

#include <happy_dial/core/types.hpp>
#include <happy_dial/detail/core_allocator.hpp>

#include <boost/system/error_code.hpp>

#include <memory>

namespace happy_dial::detail {

class dial_core;

/// Which step of an attempt a completion reports.
enum class attempt_step {
    connect,  ///< the TCP connect (dial_transport::async_connect)
    stage,    ///< the handshake stage (handshake_stage::start)
};

/// Call it exactly once with the outcome of the step (empty: it succeeded), from a thread running
/// the socket's execution context. Move-only; calling a moved-from completion does nothing. Its
/// associated allocator is the dial's (the caller's handler's), so passing it straight to an Asio
/// operation keeps the dial's allocation policy.
template <attempt_step Step>
class attempt_completion {
  public:
    /// The dial's handler's allocator, type-erased.
    using allocator_type = core_allocator<void>;

    /// An empty completion: calling it does nothing.
    attempt_completion() noexcept = default;
    /// Made by the dial for attempt `id`.
    attempt_completion(std::shared_ptr<dial_core> core, core::attempt_id id) noexcept
        : core_(std::move(core)), id_(id) {}
    attempt_completion(attempt_completion&&) noexcept = default;  ///< moves the duty to call
    attempt_completion& operator=(attempt_completion&&) noexcept = default;  ///< as above
    attempt_completion(const attempt_completion&) = delete;
    attempt_completion& operator=(const attempt_completion&) = delete;

    /// Reports the outcome of the step to the dial (defined in src/dial_core.cpp).
    void operator()(boost::system::error_code ec);

    /// Whether this completion still has to be called.
    explicit operator bool() const noexcept { return core_ != nullptr; }

    /// The dial's allocator, for the operation this completion waits on.
    allocator_type get_allocator() const noexcept { return allocator_type(*core_); }

  private:
    std::shared_ptr<dial_core> core_;
    core::attempt_id id_ = 0;
};

/// Reports a connect's outcome (dial_core::on_connect).
template <>
void attempt_completion<attempt_step::connect>::operator()(boost::system::error_code ec);
/// Reports a stage's outcome (dial_core::on_stage_done).
template <>
void attempt_completion<attempt_step::stage>::operator()(boost::system::error_code ec);

}  // namespace happy_dial::detail
