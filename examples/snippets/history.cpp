// The C++ blocks of docs/history.md. Each block is the text between `// [snippet:NAME]` and
// `// [/snippet:NAME]` below, copied verbatim (test/docs/check_snippets.cmake compares them);
// the doc_snippets target compiles this file (test/docs/CMakeLists.txt). Edit here first.
#include <happy_dial/happy_dial.hpp>

#include <boost/asio/io_context.hpp>

#include <memory>

namespace history_page {

void share(boost::asio::io_context& io_context) {
    // [snippet:share]
    auto history = std::make_shared<happy_dial::dial_history>();  // ~1,024 destinations
    happy_dial::dial_options options;
    options.history = history;                // every dial with these options shares it
    options.history_partition = "tenant-42";  // learned here, used only here
    happy_dial::dialer dialer(io_context, options);
    dialer.async_dial("example.com", "443", [](boost::system::error_code, auto) {});
    // [/snippet:share]
}

void monitor(boost::asio::io_context& io_context,
             std::shared_ptr<happy_dial::dial_history> history) {
    // [snippet:monitor]
    happy_dial::network_monitor monitor(io_context.get_executor(), history);
    if (auto ec = monitor.start()) {  // no netlink here: call history->network_changed() yourself
        // ...
    }
    // [/snippet:monitor]
}

void tune() {
    // [snippet:settings]
    happy_dial::history_settings s;
    s.max_destinations = 4096;
    s.success_lifetime = std::chrono::minutes(5);
    s.failure_penalty = std::chrono::seconds(30);         // doubles per failure in a row, up to 1 h
    s.min_attempt_delay = std::chrono::milliseconds(50);  // floor of the RTT-derived delay
    s.explore_one_in = 16;                                // one dial in 16 ignores the history
    auto history = std::make_shared<happy_dial::dial_history>(s);  // throws on bad settings
    // [/snippet:settings]
    (void)history;
}

}  // namespace history_page
