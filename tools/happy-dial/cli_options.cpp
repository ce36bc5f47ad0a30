#include "address_list.hpp"
#include "cli_options.hpp"

#include <happy_dial/proxy.hpp>

#include <charconv>
#include <chrono>
#include <string>

namespace happy_dial::cli {
namespace {

constexpr long long max_count = 1000;          // --count
constexpr long long max_interval_ms = 60'000;  // --interval: a minute between dials at most

std::optional<long long> parse_number(const std::string& text) {
    long long value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end) {
        return std::nullopt;
    }
    return value;
}

// How --proxy and --socks5 are explained when their value does not parse.
constexpr const char* proxy_url_forms =
    "give socks5://, socks5h:// or http://, optionally USER:PASSWORD@, then HOST:PORT, "
    "e.g. socks5h://127.0.0.1:1080";

}  // namespace

std::string tls_server_name(const command& cmd) {
    return cmd.sni.empty() ? cmd.host : cmd.sni;
}

std::string proxy_text(const command& cmd) {
    if (!cmd.options.proxy) {
        return {};
    }
    const auto& p = *cmd.options.proxy;
    std::string text = p.protocol == proxy_protocol::http_connect ? "http://"
                       : p.remote_dns                             ? "socks5h://"
                                                                  : "socks5://";
    // An IPv6 literal takes its brackets back, as in the URL.
    if (p.host.find(':') != std::string::npos) {
        text += '[';
        text += p.host;
        text += ']';
    } else {
        text += p.host;
    }
    text += ':';
    text += p.port;
    return text;
}

std::string usage() {
    return R"(usage: happy-dial [options] HOST PORT
       happy-dial [options] --addresses LIST [[HOST] PORT]
       happy-dial --demo

Connects to HOST:PORT the RFC 8305 (Happy Eyeballs v2) way and reports the winner.

options (defaults are RFC 8305's):
  --resolver auto|system|c-ares
                            who resolves HOST (auto: c-ares when it answers as getaddrinfo)
  --resolution-delay MS     wait for AAAA after A answered first (50)
  --attempt-delay MS        stagger between connection attempts (250; clamped to 10..2000)
  --prefer ipv6|ipv4        family tried first (ipv6)
  -6, --ipv6-only           use IPv6 addresses only
  -4, --ipv4-only           use IPv4 addresses only
  --first-family-count N    preferred-family addresses before the first other one (1)
  --timeout MS              overall deadline, resolution included (none)
  --attempt-timeout MS      give up on one attempt after MS (none: the OS decides)
  --max-attempts N          at most N attempts in flight at once (0: no cap)
  --bind ADDR               local address for attempts of ADDR's family (repeatable)
  --addresses LIST          dial these endpoints, no DNS: comma-separated ADDR, ADDR:PORT or
                            [IPv6]:PORT (at most 64); PORT is for entries without a port,
                            HOST is only a label
  --count N                 dial N times in a row (1..1000), one history for all, then print
                            a summary; the exit code is the last dial's
  --interval MS             pause MS between dials (0..60000; default 0)
  --tls                     race through TLS: an attempt wins only once its TLS handshake
                            succeeded; the certificate is verified against the system's CA
                            certificates and the name (--sni, else HOST)
  --sni NAME                the name sent as SNI and verified (default HOST; with --tls)
  --insecure                do not verify the certificate (with --tls)
  --proxy URL               dial through a proxy: socks5://, socks5h:// (the proxy resolves
                            HOST) or http:// (CONNECT), with optional USER:PASSWORD@, then
                            PROXYHOST:PROXYPORT; the race is to the proxy's addresses, each
                            attempt runs the proxy's handshake for HOST PORT (not with
                            --addresses)
  --socks5 HOST:PORT        the same as --proxy socks5h://HOST:PORT
  --https-records           query HOST's HTTPS records (RFC 9460) and use their hints, ports
                            and priorities (dial_options::https_records, docs/hev3.md)
  --no-nat64                dial IPv4 addresses as they are on an IPv6-only network
  --no-history              no connection history (by default the dials of this process share
                            one: address order, first family and attempt delays learned)
  --trace                   draw the race as a timeline, with each attempt's planned delay
                            and what the history did, then every address with its fate
                            and each attempt's local address
  --json                    print the race as one JSON document (one per dial, then the
                            summary); docs/cli-report.schema.json describes them
  --json-lines              the same documents, each compact on one line (not with --json
                            or --trace)
  --demo                    run the self-contained local demo (no network, no root)
  -h, --help                this text
  --version                 print the version

exit codes:
  0 connected   1 other failure   2 usage error   3 resolution failed
  4 all attempts failed (TCP, the proxy's handshake or TLS)   5 timed out
)";
}

std::optional<command> parse_command_line(const std::vector<std::string>& args,
                                          std::string& error) {
    command cmd;
    std::vector<std::string> positional;
    std::optional<std::string> address_list;  // parsed once PORT is known
    std::string proxy_flag;                   // --proxy or --socks5, whichever was given
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= args.size()) {
                error = arg + " needs a value";
                return std::nullopt;
            }
            return args[++i];
        };
        auto milliseconds = [&]() -> std::optional<std::chrono::milliseconds> {
            auto text = value();
            if (!text) {
                return std::nullopt;
            }
            auto n = parse_number(*text);
            if (!n) {
                error = arg + ": '" + *text + "' is not a number of milliseconds";
                return std::nullopt;
            }
            return std::chrono::milliseconds(*n);
        };
        auto count = [&]() -> std::optional<unsigned long long> {
            auto text = value();
            if (!text) {
                return std::nullopt;
            }
            auto n = parse_number(*text);
            if (!n || *n < 0) {
                error = arg + ": '" + *text + "' is not a non-negative count";
                return std::nullopt;
            }
            return static_cast<unsigned long long>(*n);
        };

        if (arg == "-h" || arg == "--help") {
            cmd.help = true;
        } else if (arg == "--version") {
            cmd.version = true;
        } else if (arg == "--demo") {
            cmd.demo = true;
        } else if (arg == "--trace") {
            cmd.trace = true;
        } else if (arg == "--json") {
            cmd.json = true;
        } else if (arg == "--json-lines") {
            cmd.json_lines = true;
        } else if (arg == "--addresses") {
            address_list = value();
            if (!address_list) {
                return std::nullopt;
            }
        } else if (arg == "--interval") {
            auto text = value();
            if (!text) {
                return std::nullopt;
            }
            auto n = parse_number(*text);
            if (!n || *n < 0 || *n > max_interval_ms) {
                error = "--interval takes milliseconds from 0 to " +
                        std::to_string(max_interval_ms) + ", not '" + *text + "'";
                return std::nullopt;
            }
            cmd.interval = std::chrono::milliseconds(*n);
        } else if (arg == "--tls") {
            cmd.tls = true;
        } else if (arg == "--insecure") {
            cmd.insecure = true;
        } else if (arg == "--sni") {
            auto v = value();
            if (!v) {
                return std::nullopt;
            }
            if (v->empty()) {
                error = "--sni takes a name, not ''";
                return std::nullopt;
            }
            cmd.sni = *v;
        } else if (arg == "--proxy" || arg == "--socks5") {
            auto v = value();
            if (!v) {
                return std::nullopt;
            }
            if (!proxy_flag.empty() && proxy_flag != arg) {
                error = "--proxy and --socks5 are exclusive: pick one";
                return std::nullopt;
            }
            proxy_flag = arg;
            std::string url;
            if (arg == "--socks5") {
                url = "socks5h://";
            }
            url += *v;
            proxy_config proxy;
            if (parse_proxy_url(url, proxy)) {
                error = arg;
                if (arg == "--socks5") {
                    error += " takes HOST:PORT (an IPv6 address as [ADDR]:PORT), not '";
                    error += *v;
                    error += "'";
                } else {
                    error += ": '";
                    error += *v;
                    error += "' is not a proxy URL (";
                    error += proxy_url_forms;
                    error += ")";
                }
                return std::nullopt;
            }
            cmd.options.proxy = std::move(proxy);
        } else if (arg == "--no-history") {
            cmd.history = false;
        } else if (arg == "--https-records") {
            cmd.options.https_records = https_records_mode::opportunistic;
        } else if (arg == "--no-nat64") {
            cmd.options.nat64 = nat64_mode::off;
        } else if (arg == "--count") {
            auto text = value();
            if (!text) {
                return std::nullopt;
            }
            auto n = parse_number(*text);
            if (!n || *n < 1 || *n > max_count) {
                error = "--count takes a number of dials from 1 to " + std::to_string(max_count) +
                        ", not '" + *text + "'";
                return std::nullopt;
            }
            cmd.count = static_cast<unsigned>(*n);
        } else if (arg == "-6" || arg == "--ipv6-only") {
            cmd.options.family = family_preference::ipv6_only;
        } else if (arg == "-4" || arg == "--ipv4-only") {
            cmd.options.family = family_preference::ipv4_only;
        } else if (arg == "--prefer") {
            auto v = value();
            if (!v) {
                return std::nullopt;
            }
            if (*v == "ipv6") {
                cmd.options.family = family_preference::prefer_ipv6;
            } else if (*v == "ipv4") {
                cmd.options.family = family_preference::prefer_ipv4;
            } else {
                error = "--prefer takes ipv6 or ipv4, not '" + *v + "'";
                return std::nullopt;
            }
        } else if (arg == "--resolver") {
            auto v = value();
            if (!v) {
                return std::nullopt;
            }
            if (*v == "auto") {
                cmd.options.resolver = resolver_backend::automatic;
            } else if (*v == "system") {
                cmd.options.resolver = resolver_backend::system;
            } else if (*v == "c-ares") {
                cmd.options.resolver = resolver_backend::c_ares;
            } else {
                error = "--resolver takes auto, system or c-ares, not '" + *v + "'";
                return std::nullopt;
            }
        } else if (arg == "--resolution-delay") {
            auto ms = milliseconds();
            if (!ms) {
                return std::nullopt;
            }
            cmd.options.resolution_delay = *ms;
        } else if (arg == "--attempt-delay") {
            auto ms = milliseconds();
            if (!ms) {
                return std::nullopt;
            }
            cmd.options.connection_attempt_delay = *ms;
        } else if (arg == "--timeout") {
            auto ms = milliseconds();
            if (!ms) {
                return std::nullopt;
            }
            cmd.options.timeout = *ms;
        } else if (arg == "--attempt-timeout") {
            auto ms = milliseconds();
            if (!ms) {
                return std::nullopt;
            }
            cmd.options.attempt_timeout = *ms;
        } else if (arg == "--first-family-count") {
            auto n = count();
            if (!n) {
                return std::nullopt;
            }
            cmd.options.first_address_family_count = static_cast<unsigned>(*n);
        } else if (arg == "--max-attempts") {
            auto n = count();
            if (!n) {
                return std::nullopt;
            }
            cmd.options.max_concurrent_attempts = static_cast<std::size_t>(*n);
        } else if (arg == "--bind") {
            auto v = value();
            if (!v) {
                return std::nullopt;
            }
            boost::system::error_code ec;
            auto address = boost::asio::ip::make_address(*v, ec);
            if (ec) {
                error = "--bind: '" + *v + "' is not an IP address";
                return std::nullopt;
            }
            (address.is_v6() ? cmd.bind_v6 : cmd.bind_v4) = address;
        } else if (!arg.empty() && arg[0] == '-' && arg != "-") {
            error = "unknown option " + arg;
            return std::nullopt;
        } else {
            positional.push_back(arg);
        }
    }
    if (cmd.help || cmd.version || cmd.demo) {
        return cmd;
    }
    if (cmd.json && cmd.json_lines) {
        error = "--json and --json-lines are exclusive: pick one";
        return std::nullopt;
    }
    // A timeline between the lines would break one-document-per-line readers.
    if (cmd.trace && cmd.json_lines) {
        error = "--trace and --json-lines are exclusive: every stdout line is a JSON document";
        return std::nullopt;
    }
    if (!cmd.tls && (!cmd.sni.empty() || cmd.insecure)) {
        error = cmd.insecure ? "--insecure" : "--sni";
        error += " applies to TLS only: add --tls";
        return std::nullopt;
    }
    if (address_list && !proxy_flag.empty()) {
        error = proxy_flag;
        error += " and --addresses are exclusive: the proxy needs HOST and PORT to ask for";
        return std::nullopt;
    }
    if (!address_list) {
        if (positional.size() != 2) {
            error = "expected HOST and PORT";
            return std::nullopt;
        }
        cmd.host = positional[0];
        cmd.port = positional[1];
        return cmd;
    }
    // --addresses LIST [[HOST] PORT]: one operand is PORT, two are HOST (a label) and PORT.
    if (positional.size() > 2) {
        error = "expected at most HOST and PORT with --addresses";
        return std::nullopt;
    }
    if (positional.size() == 2) {
        cmd.host = positional[0];
    }
    if (!positional.empty()) {
        cmd.port = positional.back();
    }
    auto endpoints = parse_address_list(*address_list, cmd.port, error);
    if (!endpoints) {
        return std::nullopt;
    }
    cmd.addresses = std::move(*endpoints);
    // Verification without a name would accept any valid certificate, whoever it names.
    if (cmd.tls && !cmd.insecure && tls_server_name(cmd).empty()) {
        error =
            "--tls with --addresses needs HOST or --sni: the name to verify the certificate "
            "against (or --insecure)";
        return std::nullopt;
    }
    return cmd;
}

}  // namespace happy_dial::cli
