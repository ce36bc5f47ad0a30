// The bench's scripted DNS server: answers A and AAAA queries for the scenario's name, each
// family with its own delay, or never.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace happy_dial::netns {

/// How one record type (A or AAAA) of a name is answered.
struct dns_answer_script {
    std::vector<boost::asio::ip::address> addresses;  ///< empty = NODATA (NOERROR, no record)
    std::chrono::milliseconds delay{0};               ///< answer this long after the query
    bool lost = false;                                ///< never answer
};

/// A UDP DNS server on its own socket, driven by the bench's server io_context. Names it does not
/// know get NXDOMAIN at once.
class dns_server {
  public:
    static constexpr std::uint16_t type_a = 1;
    static constexpr std::uint16_t type_aaaa = 28;

    struct query {
        std::chrono::steady_clock::time_point at;
        std::string name;
        std::uint16_t type = 0;
    };

    dns_server(boost::asio::io_context& ctx, const boost::asio::ip::udp::endpoint& where);

    /// Scripts `name` (lower case, no trailing dot). Thread-safe.
    void set(const std::string& name, dns_answer_script aaaa, dns_answer_script a);
    /// Forgets every name and the query log. Thread-safe.
    void reset();
    /// Every query received since the last reset(). Thread-safe.
    std::vector<query> queries() const;

  private:
    struct state;
    static void receive(const std::shared_ptr<state>& s);
    std::shared_ptr<state> state_;
};

}  // namespace happy_dial::netns
