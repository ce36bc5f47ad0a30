#include <happy_dial/detail/system_lookup.hpp>
#include <happy_dial/error.hpp>
#include <happy_dial/testing/mock_network.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>

namespace happy_dial::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::shared_ptr<mock_network> mock_network::create(asio::any_io_executor executor) {
    return std::make_shared<mock_network>(std::move(executor));
}

mock_network::mock_network(asio::any_io_executor executor) : executor_(std::move(executor)) {
    // Kernel-completed handshakes need no accept(); the backlog holds the connections.
    auto open = [this](std::optional<tcp::acceptor>& slot, const char* address) {
        boost::system::error_code ec;
        tcp::acceptor a(executor_);
        const tcp::endpoint where(asio::ip::make_address(address), 0);
        a.open(where.protocol(), ec);
        if (!ec) {
            a.bind(where, ec);
        }
        if (!ec) {
            a.listen(asio::socket_base::max_listen_connections, ec);
        }
        if (!ec) {
            slot.emplace(std::move(a));
        }
    };
    open(listener_v4_, "127.0.0.1");
    open(listener_v6_, "::1");
}

mock_network::~mock_network() = default;

void mock_network::answer(const std::string& host,
                          core::address_family family,
                          std::vector<std::string> addresses,
                          std::chrono::milliseconds delay,
                          boost::system::error_code error) {
    for (const auto& a : addresses) {
        (void)asio::ip::make_address(a);  // a typo throws here, to the test, not in a dial
    }
    std::lock_guard<std::mutex> lock(mutex_);
    answers_[{host, family}] = scripted_answer{std::move(addresses), delay, error, false};
}

void mock_network::resolve(const std::string& host,
                           const std::vector<std::string>& addresses,
                           std::chrono::milliseconds delay) {
    std::vector<std::string> v6, v4;
    for (const auto& a : addresses) {
        (asio::ip::make_address(a).is_v6() ? v6 : v4).push_back(a);
    }
    answer(host, core::address_family::ipv6, v6, delay);
    answer(host, core::address_family::ipv4, v4, delay);
}

void mock_network::never_answer(const std::string& host, core::address_family family) {
    std::lock_guard<std::mutex> lock(mutex_);
    answers_[{host, family}] = scripted_answer{{}, {}, {}, true};
}

void mock_network::endpoint(const std::string& address,
                            unsigned short port,
                            behaviour how,
                            std::chrono::milliseconds delay) {
    std::lock_guard<std::mutex> lock(mutex_);
    endpoints_[tcp::endpoint(asio::ip::make_address(address), port)] = {how, delay};
}

dial_options mock_network::options(dial_options base) {
    base.transport = shared_from_this();
    return base;
}

std::vector<connect_record> mock_network::connects() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return connects_;
}

std::vector<lookup_record> mock_network::lookups() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lookups_;
}

std::size_t mock_network::pending_connects() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return pending_.size();
}

void mock_network::async_lookup(const lookup_query& query, answer_handler done) {
    scripted_answer script{{}, {}, asio::error::host_not_found, false};
    {
        std::lock_guard<std::mutex> lock(mutex_);
        lookups_.push_back({query.host, query.family, std::chrono::steady_clock::now()});
        if (auto it = answers_.find({query.host, query.family}); it != answers_.end()) {
            script = it->second;
        }
    }
    if (script.never) {
        return;  // dropping `done` is how a lost answer looks to the dial
    }
    core::resolution_answer answer{query.family, {}, script.error};
    // Service names resolve as getaddrinfo resolves them (issue 11: std::stoul threw out of
    // async_dial for "https"); an unknown one fails the lookup like the real network's.
    if (const auto port = detail::service_port(query.service)) {
        for (const auto& a : script.addresses) {
            answer.endpoints.emplace_back(asio::ip::make_address(a), *port);
        }
    } else {
        answer.error = error::invalid_service;
    }
    auto timer = std::make_shared<asio::steady_timer>(executor_, script.delay);
    timer->async_wait([timer, done = std::move(done), answer = std::move(answer)](
                          boost::system::error_code) mutable { done(std::move(answer)); });
}

tcp::endpoint mock_network::listener_for(const tcp::endpoint& target) {
    if (target.address().is_v6() && listener_v6_) {
        return listener_v6_->local_endpoint();
    }
    return listener_v4_ ? listener_v4_->local_endpoint() : listener_v6_->local_endpoint();
}

void mock_network::async_connect(tcp::socket& socket,
                                 const tcp::endpoint& target,
                                 connect_completion done) {
    scripted_endpoint script;
    auto timer = std::make_shared<asio::steady_timer>(socket.get_executor());
    {
        std::lock_guard<std::mutex> lock(mutex_);
        connects_.push_back({target, std::chrono::steady_clock::now()});
        if (auto it = endpoints_.find(target); it != endpoints_.end()) {
            script = it->second;
        }
        pending_[&socket] = timer;
    }
    if (script.how == behaviour::never) {
        timer->expires_at(asio::steady_timer::time_point::max());
    } else {
        timer->expires_after(script.delay);
    }
    auto self = shared_from_this();
    timer->async_wait([self, timer, &socket, target, script, done = std::move(done)](
                          boost::system::error_code ec) mutable {
        {
            std::lock_guard<std::mutex> lock(self->mutex_);
            self->pending_.erase(&socket);
        }
        if (ec) {
            done(asio::error::operation_aborted);
        } else if (script.how == behaviour::refuses) {
            done(asio::error::connection_refused);
        } else if (script.how == behaviour::unreachable) {
            done(asio::error::host_unreachable);
        } else {
            self->reach_listener(socket, target, std::move(done));
        }
    });
}

// A "connects" endpoint: hand the attempt a real connection to the kit's own listener.
void mock_network::reach_listener(tcp::socket& socket,
                                  const tcp::endpoint& target,
                                  connect_completion done) {
    const auto listener = listener_for(target);
    boost::system::error_code ec;
    if (socket.local_endpoint(ec).protocol() != listener.protocol() || ec) {
        socket.close(ec);
        socket.open(listener.protocol(), ec);
        if (ec) {
            asio::post(socket.get_executor(), [done = std::move(done), ec]() mutable { done(ec); });
            return;
        }
    }
    socket.async_connect(listener, std::move(done));
}

void mock_network::cancel_connect(tcp::socket& socket) {
    std::shared_ptr<asio::steady_timer> timer;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto it = pending_.find(&socket); it != pending_.end()) {
            timer = it->second;
        }
    }
    if (timer) {
        timer->cancel();
    }
}

}  // namespace happy_dial::testing
