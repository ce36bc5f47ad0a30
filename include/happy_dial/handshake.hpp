// What runs on an attempt after its TCP connect and before it may win (RFC 8305 §5 and the
// Happy Eyeballs v3 draft: an attempt should win only once the connection is usable, e.g. after
// the TLS handshake). Supported extension point: dial_options::handshake.
#pragma once

#include <happy_dial/core/types.hpp>
#include <happy_dial/detail/attempt_completion.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace happy_dial {

/// The completion of one attempt's stage: call it exactly once with the outcome (empty: the
/// attempt may win), from a thread running the socket's execution context, never inside
/// handshake_stage::start. Move-only; calling a moved-from completion does nothing. Its
/// associated allocator is the dial's, so passing it straight to an Asio operation keeps the
/// dial's allocation policy.
using stage_completion = detail::attempt_completion<detail::attempt_step::stage>;

/// What an attempt's endpoint comes with from the origin's HTTPS records (RFC 9460; see
/// dial_options::https_records), for a stage that uses it: a TLS stage may offer just these
/// ALPN ids, and hand the ECH configuration to a TLS library that implements Encrypted Client
/// Hello (OpenSSL 3.0 does not; the built-in tls_handshake ignores it). The views are valid
/// during handshake_stage::prepare only.
struct attempt_service {
    /// The record's TargetName; empty when the record serves the origin's own name.
    std::string_view target{};
    /// The record's SvcPriority; 0 when the endpoint has no service record (then every other
    /// field is empty too).
    std::uint16_t priority = 0;
    /// The record's ALPN ids that the caller speaks (dial_options::supported_alpns), in the
    /// record's order.
    std::span<const std::string> alpns{};
    /// The record's "ech" value (an ECHConfigList; RFC 9460 §14.3.2) as received, not
    /// interpreted. Empty: the record has none.
    std::span<const std::uint8_t> ech_config_list{};
};

/// A stage of every attempt of a dial, after its TCP connect: a TLS handshake, a proxy
/// handshake, a protocol greeting. The attempt wins when its stage completes without error; a
/// stage error ends only that attempt (the next one starts at once, RFC 8305 §5). One object
/// serves all attempts of one dial, told apart by their id (ids restart at 0 in every dial, so
/// give each dial its own object); its calls come under the dial's lock, so they never overlap.
class handshake_stage {
  public:
    virtual ~handshake_stage() = default;

    /// Attempt `id`'s stage is about to start (called right before start(), on the same
    /// thread): what the attempt's endpoint comes with from the origin's HTTPS records. Called
    /// for every attempt, with an empty `service` (priority 0) when the endpoint has no service
    /// record or the dial used none. The default does nothing.
    virtual void prepare(core::attempt_id id, const attempt_service& service);

    /// Runs the stage on attempt `id`'s connected `socket` to `peer`. The socket stays at its
    /// address until the attempt ends; the stage may work on it in place or move it into a
    /// stream of its own (then cancel() must close that stream, and the caller of the dial
    /// takes the winner's stream from the stage). `done` must not be called inside this call.
    virtual void start(core::attempt_id id,
                       boost::asio::ip::tcp::socket& socket,
                       const boost::asio::ip::tcp::endpoint& peer,
                       stage_completion done) = 0;

    /// The dial gave up on attempt `id` while its stage runs, and closes `socket` right after
    /// this call (which aborts Asio operations on it): anything else pending must complete
    /// `done` soon, with boost::asio::error::operation_aborted, not inside this call. The
    /// default does nothing.
    virtual void cancel(core::attempt_id id);

    /// Attempt `id` is over and did not win (failed, timed out, lost the race, cancelled):
    /// free what start() made for it. Called once, after its completion ran. The default does
    /// nothing.
    virtual void release(core::attempt_id id) noexcept;

    /// The stage's name in dial_report (attempt_report::stages) and the CLI's report: "tls",
    /// "socks5", "http_connect". The default is "custom".
    virtual std::string_view name() const noexcept;
};

}  // namespace happy_dial
