// The C++ blocks of docs/resolvers.md. Each block is the text between `// [snippet:NAME]` and
// `// [/snippet:NAME]` below, copied verbatim (test/docs/check_snippets.cmake compares them);
// the doc_snippets target compiles this file (test/docs/CMakeLists.txt). Edit here first.
#include <happy_dial/happy_dial.hpp>

#include <boost/asio/io_context.hpp>

namespace resolvers_page {

void configure(boost::asio::io_context& io_context) {
    // [snippet:settings]
    happy_dial::resolver_settings s;
    s.backend = happy_dial::resolver_backend::system;  // what automatic means on this context
    s.max_system_threads = 256;                        // survive 256 lost queries at once
    s.dns_servers = {};                                // c-ares: resolv.conf's nameservers
    happy_dial::configure_resolvers(io_context, s);
    // [/snippet:settings]
}

void per_dial(boost::asio::io_context& io_context) {
    // [snippet:per_dial]
    happy_dial::dial_options options;
    options.resolver = happy_dial::resolver_backend::c_ares;  // this dial only
    happy_dial::async_dial(io_context,
                           "example.com",
                           "https",
                           options,
                           [](boost::system::error_code, boost::asio::ip::tcp::socket) {});
    // [/snippet:per_dial]
}

}  // namespace resolvers_page
