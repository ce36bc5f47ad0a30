// happy-dial: dial HOST PORT (or an --addresses list) the RFC 8305 way and report the race.
#include "address_list.hpp"
#include "cli_options.hpp"
#include "demo.hpp"
#include "exit_codes.hpp"
#include "json_report.hpp"
#include "summary.hpp"
#include "timeline.hpp"
#include "tls_dial.hpp"

#include <happy_dial/happy_dial.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef HAPPY_DIAL_VERSION
#define HAPPY_DIAL_VERSION "unknown"
#endif

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace happy_dial;
using namespace happy_dial::cli;

// --bind: each attempt binds the local address of its own family before connecting.
void add_binds(command& cmd) {
    if (!cmd.bind_v4 && !cmd.bind_v6) {
        return;
    }
    cmd.options.socket_setup = [v4 = cmd.bind_v4, v6 = cmd.bind_v6](tcp::socket& s,
                                                                    const tcp::endpoint& target,
                                                                    boost::system::error_code& ec) {
        const auto& local = target.address().is_v6() ? v6 : v4;
        if (local) {
            s.bind({*local, 0}, ec);
        }
    };
}

// What was dialed, in words: "HOST port PORT" (then "via PROXY-URL" with a proxy), or the
// --addresses list (after HOST if given).
std::string target(const command& cmd) {
    if (cmd.addresses.empty()) {
        std::string text = cmd.host;
        text += " port ";
        text += cmd.port;
        if (cmd.options.proxy) {
            text += " via ";
            text += proxy_text(cmd);
        }
        return text;
    }
    return (cmd.host.empty() ? "" : cmd.host + " at ") + format_address_list(cmd.addresses);
}

// --json prints pretty documents; --json-lines the same ones, each compacted onto one line.
void print_json(const command& cmd, const std::string& pretty) {
    std::cout << (cmd.json_lines ? compact_json(pretty) + "\n" : pretty);
}

void explain_failure(std::ostream& os,
                     const command& cmd,
                     const dial_report& report,
                     exit_code code) {
    os << "happy-dial: cannot connect to " << target(cmd) << ": ";
    switch (code) {
        case timed_out:
            os << "no connection within the " << cmd.options.timeout->count() << " ms timeout";
            break;
        case resolution_failed:
            os << "no usable address: " << report.error.message();
            break;
        case attempts_failed:
            os << "every attempt failed (first error: " << report.error.message() << ")";
            break;
        default:
            os << report.error.message();
    }
    os << " [" << report.error.category().name() << ":" << report.error.value() << "]\n";
    for (const auto& a : report.attempts) {
        // Failed in the proxy's handshake or TLS: say which ("tls failed: ...").
        if (const auto* stage = failed_stage(a)) {
            os << "  " << a.endpoint << ": " << describe_stage(*stage) << "\n";
            continue;
        }
        const auto outcome = describe_attempt(a);
        os << "  " << a.endpoint << ": " << outcome;
        // "refused" and the like get the system's words; "failed: ..." carries them already.
        const auto message = a.error.message();
        if (a.error && a.outcome == attempt_outcome::failed &&
            outcome.find(message) == std::string::npos) {
            os << " (" << message << ")";
        }
        os << "\n";
    }
}

int report_dial(const command& cmd, const dial_report& report) {
    const exit_code code = exit_code_for(report.error, report.attempts.size());
    if (cmd.json || cmd.json_lines) {
        std::ostringstream json;
        write_json(json, cmd.host, cmd.port, report, code, cmd.addresses);
        print_json(cmd, json.str());
        return code;
    }
    if (cmd.trace) {
        std::cout << "happy-dial "
                  << (cmd.addresses.empty() ? cmd.host + " " + cmd.port : target(cmd)) << "\n";
        if (cmd.options.proxy) {
            std::cout << "proxy: " << proxy_text(cmd) << " (the attempts are to its addresses)\n";
        }
        if (cmd.tls) {
            const auto name = tls_server_name(cmd);
            std::cout << "tls: ";
            if (name.empty()) {
                std::cout << "no name";
            } else {
                std::cout << "name " << name;
            }
            std::cout << (cmd.insecure ? ", verify off (--insecure)\n" : ", verify on\n");
        }
        if (report.resolver) {
            std::cout << "resolver: " << to_string(report.resolver->backend) << " ("
                      << report.resolver->reason << ")\n";
        }
        if (report.history) {
            std::cout << "history: " << describe_history(*report.history) << "\n";
        } else if (!cmd.options.history) {
            std::cout << "history: off\n";
        }
        draw_timeline(std::cout, rows_for(report, true), to_ms(report.elapsed));
        write_addresses(std::cout, report);
        if (const auto fallback = describe_fallback(report); !fallback.empty()) {
            std::cout << fallback << "\n";
        }
    }
    if (code == connected) {
        const auto& w = report.attempts[*report.winner];
        std::cout << "connected to ";
        if (cmd.options.proxy) {
            std::cout << cmd.host << " port " << cmd.port << " through the proxy at ";
        }
        std::cout << w.endpoint << " (" << (w.endpoint.address().is_v6() ? "IPv6" : "IPv4") << ") "
                  << (cmd.tls ? "with TLS " : "") << "in " << format_ms(to_ms(report.elapsed))
                  << " ms, attempt " << (*report.winner + 1) << " of " << report.attempts.size()
                  << "\n";
    } else {
        explain_failure(std::cerr, cmd, report, code);
    }
    return code;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string error;
    auto parsed = parse_command_line(args, error);
    if (!parsed) {
        std::cerr << "happy-dial: " << error << "\n(try happy-dial --help)\n";
        return usage_error;
    }
    command cmd = std::move(*parsed);
    if (cmd.help) {
        std::cout << usage();
        return connected;
    }
    if (cmd.version) {
        std::cout << "happy-dial " << HAPPY_DIAL_VERSION << "\n";
        return connected;
    }
    if (cmd.demo) {
        return run_demo(std::cout);
    }
    add_binds(cmd);
    // One history for every dial of this process (--count): what a dial learns, the next uses.
    if (cmd.history) {
        cmd.options.history = std::make_shared<dial_history>();
    }

    asio::io_context ctx;
    int status = connected;
    run_summary summary;
    dial_starter start_dial;
    if (cmd.tls) {
        start_dial = make_tls_starter(ctx, cmd, error);
        if (!start_dial) {
            std::cerr << "happy-dial: " << error << "\n";
            return other_failure;
        }
    } else {
        start_dial = [&ctx, &cmd](const dial_options& options) {
            // The winner's socket is closed before the next dial starts.
            const auto close_winner = [](boost::system::error_code, tcp::socket socket) {
                boost::system::error_code ignored;
                socket.close(ignored);
            };
            if (cmd.addresses.empty()) {
                async_dial(ctx, cmd.host, cmd.port, options, close_winner);
            } else {
                async_dial(ctx, cmd.addresses, options, close_winner);
            }
        };
    }
    for (unsigned n = 1; n <= cmd.count; ++n) {
        if (n > 1 && cmd.interval.count() > 0) {
            std::this_thread::sleep_for(cmd.interval);
        }
        if (cmd.count > 1 && !cmd.json && !cmd.json_lines) {
            std::cout << "dial " << n << " of " << cmd.count << "\n";
        }
        dial_report report;
        cmd.options.report = &report;
        start_dial(cmd.options);
        ctx.run();
        ctx.restart();
        status = report_dial(cmd, report);
        summary.add(report, status);
        // Whoever reads a pipe sees the result now, not when the process exits (issue 11).
        std::cout.flush();
        std::cerr.flush();
    }
    if (cmd.count > 1) {
        if (cmd.json || cmd.json_lines) {
            std::ostringstream json;
            summary.write_json(json);
            print_json(cmd, json.str());
        } else {
            summary.write_text(std::cout);
        }
        std::cout.flush();
    }
    return status;
}
