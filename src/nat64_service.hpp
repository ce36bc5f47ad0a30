// The NAT64 prefixes of one execution context's network (RFC 7050), shared by its dials.
#pragma once

#include <happy_dial/core/nat64.hpp>

#include <boost/asio/execution_context.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace happy_dial::detail {

/// One per execution context: what the last ipv4only.arpa query found, for its TTL, and only
/// on the network it was asked on (a dial_history's epoch, when the dial has one).
class nat64_service final : public boost::asio::execution_context::service {
  public:
    using key_type = nat64_service;
    inline static boost::asio::execution_context::id id;

    explicit nat64_service(boost::asio::execution_context& context)
        : boost::asio::execution_context::service(context) {}

    /// The cached prefixes (present and empty: this network has no NAT64), or nothing when
    /// they must be discovered. A different `epoch` than the one stored (the network changed)
    /// empties the cache.
    std::optional<std::vector<core::nat64_prefix>> lookup(core::time_point now,
                                                          std::optional<std::uint64_t> epoch) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (epoch != epoch_) {
            cache_.invalidate();
            epoch_ = epoch;
        }
        return cache_.lookup(now);
    }

    /// Keeps what a discovery found for `ttl` (no prefix: "this network has no NAT64", kept
    /// for at most a minute).
    void store(core::time_point now,
               std::vector<core::nat64_prefix> prefixes,
               std::chrono::seconds ttl,
               std::optional<std::uint64_t> epoch) {
        std::lock_guard<std::mutex> lock(mutex_);
        epoch_ = epoch;
        // A negative TTL is getaddrinfo's "unknown", which the cache spells 0.
        cache_.store(now, std::move(prefixes), std::max(ttl, std::chrono::seconds(0)));
    }

  private:
    void shutdown() override {}

    std::mutex mutex_;
    core::nat64_cache cache_;
    std::optional<std::uint64_t> epoch_;
};

}  // namespace happy_dial::detail
