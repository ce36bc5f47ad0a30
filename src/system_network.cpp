#include <happy_dial/detail/system_lookup.hpp>
#include <happy_dial/transport.hpp>

#if defined(HAPPY_DIAL_HAS_CARES)
#include "resolve/ares_lookup.hpp"
#endif

#include <happy_dial/error.hpp>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>

namespace happy_dial {

void dial_transport::cancel_connect(boost::asio::ip::tcp::socket&) {}

const std::shared_ptr<system_network>& system_network::instance() {
    static const auto network = std::make_shared<system_network>();
    return network;
}

void system_network::async_lookup(const lookup_query& query, answer_handler done) {
    auto& context = boost::asio::query(query.executor, boost::asio::execution::context);
    auto backend = query.resolver;
    if (backend == resolver_backend::automatic) {
        backend = effective_resolver(context, backend).backend;
    }
    if (backend == resolver_backend::c_ares) {
#if defined(HAPPY_DIAL_HAS_CARES)
        detail::ares_host_lookup(query, std::move(done));
#else
        boost::asio::post(query.executor, [family = query.family, done = std::move(done)] {
            done(core::resolution_answer{family, {}, error::resolver_unavailable});
        });
#endif
        return;
    }
    detail::system_lookup(context, query, std::move(done));
}

}  // namespace happy_dial
