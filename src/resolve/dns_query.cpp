#include <happy_dial/dns_query.hpp>
#include <happy_dial/error.hpp>

#include <boost/asio/post.hpp>

#if defined(HAPPY_DIAL_HAS_CARES)
#include "resolve/ares_lookup.hpp"
#endif

namespace happy_dial::detail {

void start_dns_query(const boost::asio::any_io_executor& executor,
                     std::string name,
                     std::uint16_t type,
                     boost::asio::cancellation_slot slot,
                     std::function<dns_query_signature> done) {
#if defined(HAPPY_DIAL_HAS_CARES)
    ares_raw_query(executor, std::move(name), type, slot, std::move(done));
#else
    (void)name;
    (void)type;
    (void)slot;
    boost::asio::post(executor,
                      [done = std::move(done)] { done(error::resolver_unavailable, {}); });
#endif
}

}  // namespace happy_dial::detail
