// One raw DNS query of any type (e.g. HTTPS = 65, or AAAA for ipv4only.arpa), on c-ares.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace happy_dial {

/// The completion signature of async_dns_query.
using dns_query_signature = void(boost::system::error_code, std::vector<std::uint8_t>);

namespace detail {
/// Starts the query; `done` runs on a strand of `executor`, never inside this call.
void start_dns_query(const boost::asio::any_io_executor& executor,
                     std::string name,
                     std::uint16_t type,
                     boost::asio::cancellation_slot slot,
                     std::function<dns_query_signature> done);
}  // namespace detail

/// Sends one DNS query (class IN) for `name` (absolute: no search list) and `type` to the
/// resolv.conf servers with c-ares, and completes with the server's answer message as sent
/// (RFC 1035 §4.1), to be parsed by the caller.
///
/// Completion signature: `void(error_code, std::vector<std::uint8_t>)`. The error is empty for
/// NOERROR, with or without answer records; asio::error::host_not_found for NXDOMAIN;
/// error::dns_server_failure, dns_refused, dns_timed_out, dns_bad_response otherwise;
/// error::resolver_unavailable when the library is built without c-ares.
///
/// Cancellation: terminal, partial and total. The query is abandoned (its socket closed) and
/// the operation completes with asio::error::operation_aborted.
template <class Executor,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(dns_query_signature)
              Token = boost::asio::default_completion_token_t<Executor>>
auto async_dns_query(const Executor& executor,
                     std::string name,
                     std::uint16_t type,
                     Token&& token = boost::asio::default_completion_token_t<Executor>()) {
    return boost::asio::async_initiate<Token, dns_query_signature>(
        [executor](auto handler, std::string n, std::uint16_t t) {
            auto slot = boost::asio::get_associated_cancellation_slot(handler);
            auto work = boost::asio::prefer(boost::asio::get_associated_executor(handler, executor),
                                            boost::asio::execution::outstanding_work.tracked);
            // std::function needs a copyable target; the handler is moved exactly once.
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            detail::start_dns_query(
                executor,
                std::move(n),
                t,
                slot,
                [shared, work, slot](boost::system::error_code ec,
                                     std::vector<std::uint8_t> bytes) mutable {
                    // Posted: this runs inside c-ares's callback, which must not be re-entered.
                    boost::asio::post(
                        work, [h = std::move(*shared), slot, ec, b = std::move(bytes)]() mutable {
                            if (slot.is_connected()) {
                                slot.clear();  // the query is over: its handler goes first
                            }
                            std::move(h)(ec, std::move(b));
                        });
                });
        },
        token,
        std::move(name),
        type);
}

}  // namespace happy_dial
