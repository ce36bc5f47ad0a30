// The c-ares channel of one execution context, driven by Asio: its sockets are watched with
// stream descriptors and its timeouts with one steady_timer, all on one strand.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>

#include <ares.h>
#include <memory>
#include <mutex>
#include <vector>

namespace happy_dial::detail {

/// The error a c-ares status stands for. ARES_ENODATA (the name exists, no record of the type)
/// is no error: an empty answer. NXDOMAIN is asio::error::host_not_found, as getaddrinfo's.
boost::system::error_code ares_error(int status);

class ares_channel_runner;

/// One query on a channel. Its c-ares callback (whose `arg` is this object) calls
/// ares_channel_runner::on_result once it has recorded the outcome.
class ares_request {
  public:
    virtual ~ares_request() = default;
    /// Sends the query on `channel`, with this object as the callback's argument.
    virtual void issue(ares_channel channel) = 0;
    /// Hands the outcome on (`ec` set: failed or cancelled). Called once, on the strand.
    virtual void deliver(boost::system::error_code ec) = 0;

    bool delivered = false;  ///< deliver() ran (the answer, or cancellation)
    bool issued = false;     ///< c-ares owns a callback to this object until it calls it
    ares_channel_runner* runner = nullptr;  ///< set by submit()
    void* channel_state = nullptr;          ///< its runner channel, set when issued
};

/// The queries of one execution context, on c-ares channels while any is pending. A channel
/// opens when a query needs one (reading resolv.conf and /etc/hosts) and is destroyed as soon as
/// none of its queries is waited for: its sockets are closed and its timer cancelled, so nothing
/// stays on the io_context, and the next burst reads a changed resolv.conf.
///
/// At most `queries_per_channel` queries wait on one channel: c-ares 1.18 sends them all from
/// one UDP socket per server, and a burst of answers larger than the socket's receive buffer
/// (208 KB by default, ~160 small datagrams) is dropped by the kernel, costing a retry timeout.
/// Not one channel per lookup either: a channel allocates ~72 KB of tables, which made a burst
/// of 1,000 dials spend half a second in page faults.
///
/// Cancellation: a cancelled query is delivered (operation_aborted) at once and no longer
/// waited for; c-ares 1.18 cannot stop a single query, so it stays on its channel until the
/// channel closes, at the latest when no other query on it is waited for.
class ares_channel_runner : public std::enable_shared_from_this<ares_channel_runner> {
  public:
    static constexpr std::size_t queries_per_channel = 64;

    ares_channel_runner(boost::asio::execution_context& context,
                        const boost::asio::any_io_executor& executor);
    ares_channel_runner(const ares_channel_runner&) = delete;
    ares_channel_runner& operator=(const ares_channel_runner&) = delete;
    ~ares_channel_runner();

    /// The runner of `executor`'s context: the running one, or a new one.
    static std::shared_ptr<ares_channel_runner> of(const boost::asio::any_io_executor& executor);

    /// Issues `query` on the strand (never inside this call). A terminal, partial or total
    /// signal on `slot` cancels it.
    void submit(std::shared_ptr<ares_request> query, boost::asio::cancellation_slot slot);

    /// Called by a query's c-ares callback after it recorded its outcome.
    void on_result(ares_request& query, boost::system::error_code ec);

    struct channel_state;  ///< one c-ares channel with its sockets and timer

  private:
    void begin(const std::shared_ptr<ares_request>& query);
    void cancel(const std::shared_ptr<ares_request>& query);
    channel_state* channel_for_new_query(boost::system::error_code& ec);
    boost::system::error_code open_channel(channel_state& c);
    bool use_servers(ares_channel channel);
    void on_ready(channel_state& c, unsigned id, bool read, boost::system::error_code ec);
    void on_timeout(channel_state& c, unsigned generation, boost::system::error_code ec);
    void after_ares_call(channel_state& c);
    void arm_timer(channel_state& c);

    boost::asio::execution_context& context_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;
    // Kept (closed) until the runner goes, so pending handlers always find their channel.
    std::vector<std::unique_ptr<channel_state>> channels_;
};

}  // namespace happy_dial::detail
