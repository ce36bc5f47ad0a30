#include <happy_dial/testing/mock_network.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/socket_base.hpp>

// The script, the knobs and the records; the steps are in mock_network_steps.cpp.
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
    std::weak_ptr<mock_network> weak = shared_from_this();
    base.socket_setup = [weak, own = std::move(base.socket_setup)](tcp::socket& socket,
                                                                   const tcp::endpoint& target,
                                                                   boost::system::error_code& ec) {
        if (auto self = weak.lock()) {
            std::unique_lock<std::mutex> lock(self->mutex_);
            const auto index = self->hooks_++;
            if (self->fail_hook_ && self->fail_hook_->at == index) {
                ec = self->fail_hook_->error;
                self->fired_ = true;
                return;
            }
        }
        if (own) {
            own(socket, target, ec);
        }
    };
    return base;
}

void mock_network::fail_lookup(std::size_t n, boost::system::error_code error) {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_lookup_ = fault{n, error};
}

void mock_network::fail_connect(std::size_t n, boost::system::error_code error) {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_connect_ = fault{n, error};
}

void mock_network::fail_hook(std::size_t n, boost::system::error_code error) {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_hook_ = fault{n, error};
}

void mock_network::freeze_at(std::size_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    freeze_at_ = n;
}

void mock_network::on_step(std::function<void(const step_info&)> callback) {
    std::lock_guard<std::mutex> lock(mutex_);
    on_step_ = std::move(callback);
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

std::size_t mock_network::hooks() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return hooks_;
}

std::size_t mock_network::steps() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return steps_;
}

bool mock_network::fired() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return fired_;
}

void mock_network::release_withheld() {
    std::vector<connect_completion> connects;
    std::vector<std::function<void()>> lookups;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& [socket, pending] : pending_) {
            connects.push_back(std::move(pending.withheld));
        }
        lookups.swap(withheld_lookups_);
    }
    connects.clear();  // dropped outside the lock: a dial may go with them
    for (auto& f : lookups) {
        f();
    }
}

tcp::endpoint mock_network::listener_for(const tcp::endpoint& target) const {
    if (target.address().is_v6() && listener_v6_) {
        return listener_v6_->local_endpoint();
    }
    return listener_v4_ ? listener_v4_->local_endpoint() : listener_v6_->local_endpoint();
}

}  // namespace happy_dial::testing
