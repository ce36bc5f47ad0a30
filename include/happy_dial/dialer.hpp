// A reusable connector holding its executor and options.
#pragma once

#include <happy_dial/async_dial.hpp>
#include <happy_dial/dial_options.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <string_view>
#include <utility>

namespace happy_dial {

/// Holds an executor and dial_options and dials with them; cheap to copy. Each operation has
/// the completion signature and cancellation behaviour of the free function it names.
/// (It is where state shared between dials, such as per-destination history, will live.)
class dialer {
  public:
    /// The executor of the sockets it makes.
    using executor_type = boost::asio::any_io_executor;

    // Overloads rather than `dial_options options = {}`: GCC 12 relocates a default-argument
    // temporary bitwise when the call's full-expression holds a co_await, as in
    // `dialer d(co_await asio::this_coro::executor);`, and the options' std::string then frees
    // a bad pointer (examples/coroutine.cpp does exactly this).

    /// Dials on `executor` with default options.
    explicit dialer(executor_type executor) : executor_(std::move(executor)) {}

    /// Dials on `executor` with `options`.
    dialer(executor_type executor, dial_options options)
        : executor_(std::move(executor)), options_(std::move(options)) {}

    /// Dials on `context`'s executor with default options.
    template <execution_context_type Context>
    explicit dialer(Context& context) : dialer(executor_type(context.get_executor())) {}

    /// Dials on `context`'s executor with `options`.
    template <execution_context_type Context>
    dialer(Context& context, dial_options options)
        : dialer(executor_type(context.get_executor()), std::move(options)) {}

    /// The executor of the sockets it makes.
    executor_type get_executor() const noexcept { return executor_; }
    /// The options every dial uses.
    const dial_options& options() const noexcept { return options_; }
    /// The options every later dial uses (not thread-safe against dials being started).
    dial_options& options() noexcept { return options_; }

    /// async_dial(executor, host, service, options, token).
    template <class CompletionToken>
    auto async_dial(std::string_view host, std::string_view service, CompletionToken&& token) {
        return happy_dial::async_dial(
            executor_, host, service, options_, std::forward<CompletionToken>(token));
    }

    /// As above, filling `report` with the dial's record before completing.
    template <class CompletionToken>
    auto async_dial(std::string_view host,
                    std::string_view service,
                    dial_report& report,
                    CompletionToken&& token) {
        auto options = options_;
        options.report = &report;
        return happy_dial::async_dial(
            executor_, host, service, options, std::forward<CompletionToken>(token));
    }

    /// async_dial(executor, endpoints, options, token).
    template <endpoint_range Range, class CompletionToken>
    auto async_dial(const Range& endpoints, CompletionToken&& token) {
        return happy_dial::async_dial(
            executor_, endpoints, options_, std::forward<CompletionToken>(token));
    }

    /// async_connect(socket, host, service, options, token).
    template <class Executor,
              class CompletionToken = boost::asio::default_completion_token_t<Executor>>
    auto async_connect(boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket,
                       std::string_view host,
                       std::string_view service,
                       CompletionToken&& token = CompletionToken()) {
        return happy_dial::async_connect(
            socket, host, service, options_, std::forward<CompletionToken>(token));
    }

  private:
    executor_type executor_;
    dial_options options_;
};

}  // namespace happy_dial
