// The resolver settings of one execution context and its cached automatic choice.
#pragma once

#include <happy_dial/resolver.hpp>

#include <boost/asio/execution_context.hpp>

#include <mutex>
#include <optional>

namespace happy_dial::detail {

/// One per execution context (configure_resolvers, effective_resolver).
class resolver_service final : public boost::asio::execution_context::service {
  public:
    using key_type = resolver_service;
    inline static boost::asio::execution_context::id id;

    explicit resolver_service(boost::asio::execution_context& context)
        : boost::asio::execution_context::service(context) {}

    resolver_settings settings() const;
    void configure(const resolver_settings& settings);

    /// The backend a lookup asking for `requested` uses. The automatic choice reads
    /// /etc/nsswitch.conf and /etc/resolv.conf once per context (as Go does per process).
    resolver_choice choose(resolver_backend requested);

  private:
    void shutdown() override {}

    mutable std::mutex mutex_;
    resolver_settings settings_;
    std::optional<resolver_choice> automatic_;
};

}  // namespace happy_dial::detail
