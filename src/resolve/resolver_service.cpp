#include "resolve/resolver_service.hpp"

#include <happy_dial/detail/lookup_threads.hpp>

#include <fstream>
#include <sstream>
#include <string>

namespace happy_dial {
namespace detail {
namespace {

std::string read_file(const char* path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

resolver_settings resolver_service::settings() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return settings_;
}

void resolver_service::configure(const resolver_settings& settings) {
    std::lock_guard<std::mutex> lock(mutex_);
    settings_ = settings;
}

resolver_choice resolver_service::choose(resolver_backend requested) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (requested == resolver_backend::automatic) {
        requested = settings_.backend;
    }
    switch (requested) {
        case resolver_backend::system:
            return {requested, "asked for"};
        case resolver_backend::c_ares:
            return {requested, c_ares_available() ? "asked for" : "asked for, but not built"};
        case resolver_backend::automatic:
            break;
    }
    if (!automatic_) {
        automatic_ =
            choose_resolver(read_file("/etc/nsswitch.conf"), read_file("/etc/resolv.conf"));
    }
    return *automatic_;
}

}  // namespace detail

void configure_resolvers(boost::asio::execution_context& context,
                         const resolver_settings& settings) {
    boost::asio::use_service<detail::resolver_service>(context).configure(settings);
    boost::asio::use_service<detail::lookup_threads>(context).set_max_threads(
        settings.max_system_threads);
}

resolver_settings resolver_settings_of(boost::asio::execution_context& context) {
    return boost::asio::use_service<detail::resolver_service>(context).settings();
}

resolver_choice effective_resolver(boost::asio::execution_context& context,
                                   resolver_backend requested) {
    return boost::asio::use_service<detail::resolver_service>(context).choose(requested);
}

}  // namespace happy_dial
