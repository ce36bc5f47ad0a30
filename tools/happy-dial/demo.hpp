// The self-contained demo: happy_dial against sequential asio::async_connect, side by side.
#pragma once

#include <ostream>

namespace happy_dial::cli {

/// Starts local listeners (an IPv4 one that accepts, an IPv6 one that silently drops SYNs),
/// dials them with happy_dial and with asio::async_connect at the same time, and draws both
/// timelines. Needs no root and no network. Returns 0 when the demo showed what it should.
int run_demo(std::ostream& os);

}  // namespace happy_dial::cli
