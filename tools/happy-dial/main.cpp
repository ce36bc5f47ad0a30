// happy-dial: dial HOST PORT the RFC 8305 way and report the race.
#include "cli_options.hpp"
#include "demo.hpp"
#include "exit_codes.hpp"
#include "json_report.hpp"
#include "timeline.hpp"

#include <happy_dial/happy_dial.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>
#include <memory>
#include <string>
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

void explain_failure(std::ostream& os,
                     const command& cmd,
                     const dial_report& report,
                     exit_code code) {
    os << "happy-dial: cannot connect to " << cmd.host << " port " << cmd.port << ": ";
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
    if (cmd.json) {
        write_json(std::cout, cmd.host, cmd.port, report, code);
        return code;
    }
    if (cmd.trace) {
        std::cout << "happy-dial " << cmd.host << " " << cmd.port << "\n";
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
    }
    if (code == connected) {
        const auto& w = report.attempts[*report.winner];
        std::cout << "connected to " << w.endpoint << " ("
                  << (w.endpoint.address().is_v6() ? "IPv6" : "IPv4") << ") in "
                  << format_ms(to_ms(report.elapsed)) << " ms, attempt " << (*report.winner + 1)
                  << " of " << report.attempts.size() << "\n";
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
    for (unsigned n = 1; n <= cmd.count; ++n) {
        if (cmd.count > 1 && !cmd.json) {
            std::cout << "dial " << n << " of " << cmd.count << "\n";
        }
        dial_report report;
        cmd.options.report = &report;
        // The winner's socket is closed before the next dial starts.
        async_dial(ctx,
                   cmd.host,
                   cmd.port,
                   cmd.options,
                   [](boost::system::error_code, tcp::socket socket) {
                       boost::system::error_code ignored;
                       socket.close(ignored);
                   });
        ctx.run();
        ctx.restart();
        status = report_dial(cmd, report);
        // Whoever reads a pipe sees the result now, not when the process exits (issue 11).
        std::cout.flush();
        std::cerr.flush();
    }
    return status;
}
