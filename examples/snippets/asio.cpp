// The C++ blocks of docs/asio.md. Each block is the text between `// [snippet:NAME]` and
// `// [/snippet:NAME]` below, copied verbatim (test/docs/check_snippets.cmake compares them);
// the doc_snippets target compiles this file (test/docs/CMakeLists.txt). Edit here first.
#include <happy_dial/beast.hpp>
#include <happy_dial/happy_dial.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;

namespace asio_page {

asio::awaitable<void> send(asio::any_io_executor ex,
                           std::string host,
                           std::string port,
                           std::string request) {
    // [snippet:beast_timeout]
    beast::tcp_stream stream(ex);
    stream.expires_after(300ms);  // bounds the whole dial, DNS included -> beast::error::timeout
    happy_dial::dial_options options;
    options.attempt_timeout = 200ms;  // optional: one silent address costs at most this
    co_await happy_dial::async_connect(stream, host, port, options, asio::use_awaitable);

    stream.expires_after(5s);  // as after Beast's own connect: re-arm for the write
    co_await asio::async_write(stream, asio::buffer(request), asio::use_awaitable);
    // [/snippet:beast_timeout]
}

}  // namespace asio_page
