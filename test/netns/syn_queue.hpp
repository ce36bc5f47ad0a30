// The bench's SYN queue: every SYN the scenario sends passes through NFQUEUE, gets logged with
// its time, and is released after the delay configured for its destination.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace happy_dial::netns {

using clock_type = std::chrono::steady_clock;

/// Binds NFQUEUE queue `queue_num` over raw nfnetlink (no libnetfilter_queue needed) and runs
/// one verdict thread. iptables/ip6tables rules send the SYNs here (see bench.cpp); a packet
/// is accepted once the delay of its destination address has passed (0 = at once).
class syn_queue {
  public:
    /// One SYN seen by the kernel on its way out (a retransmission has the same source port).
    struct entry {
        clock_type::time_point seen;
        clock_type::time_point released;
        boost::asio::ip::address destination;
        std::uint16_t source_port = 0;
    };

    /// Throws std::system_error when the queue cannot be bound.
    explicit syn_queue(std::uint16_t queue_num);
    ~syn_queue();
    syn_queue(const syn_queue&) = delete;
    syn_queue& operator=(const syn_queue&) = delete;

    /// Packets to `destination` are held this long before they are accepted.
    void set_delay(const boost::asio::ip::address& destination, std::chrono::microseconds delay);
    /// Forgets every delay and the log.
    void reset();
    /// Forgets the log only.
    void reset_log();
    /// Every SYN queued since the last reset(), in order.
    std::vector<entry> log() const;

  private:
    struct held {
        clock_type::time_point due;
        std::uint32_t packet_id;
        std::size_t log_index;
        std::uint64_t generation;  ///< of the log the index points into
    };

    void run();
    void receive(std::vector<held>& pending);
    void send_verdict(std::uint32_t packet_id);
    void configure(std::uint8_t command, bool with_params);

    std::uint16_t queue_num_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::map<boost::asio::ip::address, std::chrono::microseconds> delays_;
    std::vector<entry> log_;
    std::uint64_t generation_ = 0;  ///< bumped whenever the log is cleared
    std::thread thread_;
};

}  // namespace happy_dial::netns
