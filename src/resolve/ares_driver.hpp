// One c-ares channel driven by Asio: the channel's sockets are watched with stream
// descriptors and its timeouts with one steady_timer, all on a strand of the caller's executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>

#include <ares.h>
#include <memory>
#include <vector>

namespace happy_dial::detail {

/// The error a c-ares status stands for. ARES_ENODATA (the name exists, no record of the type)
/// is no error: an empty answer. NXDOMAIN is asio::error::host_not_found, as getaddrinfo's.
boost::system::error_code ares_error(int status);

/// Runs the queries of one channel, owned by one lookup. A channel per lookup makes
/// cancellation true (ares_destroy ends its queries and closes its sockets; c-ares 1.18 has no
/// per-query cancel) and leaves nothing on the io_context once the lookup is over.
///
/// Subclasses issue their query in issue() and call finish() from its c-ares callback; the
/// driver then destroys the channel (never inside a c-ares callback) and calls deliver().
class ares_driver : public std::enable_shared_from_this<ares_driver> {
  public:
    /// `servers` replaces resolv.conf's nameservers when not empty.
    ares_driver(const boost::asio::any_io_executor& executor,
                std::vector<boost::asio::ip::udp::endpoint> servers);
    ares_driver(const ares_driver&) = delete;
    ares_driver& operator=(const ares_driver&) = delete;
    virtual ~ares_driver();

    /// Opens the channel and issues the query, on the strand (never inside this call). A
    /// terminal, partial or total signal on `slot` cancels it: deliver() with operation_aborted.
    void start(boost::asio::cancellation_slot slot);

  protected:
    /// Sends the query on `channel`.
    virtual void issue(ares_channel channel) = 0;
    /// The lookup is over (`ec` is set when it failed or was cancelled); the channel is gone.
    virtual void deliver(boost::system::error_code ec) = 0;
    /// Called from issue()'s c-ares callback: the outcome is known.
    void finish(boost::system::error_code ec);
    /// Whether the outcome is known: a c-ares callback arriving afterwards (ARES_EDESTRUCTION)
    /// must only free its result.
    bool finished() const noexcept { return finished_; }
    /// Destroys a channel still open, without delivering. Subclass destructors call it first,
    /// so the callbacks ares_destroy runs still find the subclass alive.
    void close_channel() noexcept;

  private:
    struct watch {
        ares_socket_t fd;
        unsigned id;
        boost::asio::posix::stream_descriptor descriptor;
        bool want_read = false;
        bool want_write = false;
        bool reading = false;
        bool writing = false;
    };
    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
    void open();
    void cancel();
    void socket_state(ares_socket_t fd, bool readable, bool writable);
    void on_ready(unsigned id, bool read, boost::system::error_code ec);
    void on_timeout(unsigned generation, boost::system::error_code ec);
    void after_ares_call();
    void arm(watch& w);
    void arm_timer();
    void teardown();

    bool use_servers(ares_channel channel) const;

    boost::asio::strand<boost::asio::any_io_executor> strand_;
    std::vector<boost::asio::ip::udp::endpoint> servers_;
    boost::asio::steady_timer timer_;
    ares_channel channel_ = nullptr;
    std::vector<std::unique_ptr<watch>> watches_;
    unsigned next_watch_id_ = 0;
    unsigned timer_generation_ = 0;
    bool finished_ = false;   // the outcome is known (or cancelled)
    bool delivered_ = false;  // deliver() ran
    boost::system::error_code outcome_;
};

}  // namespace happy_dial::detail
