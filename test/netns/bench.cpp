#include "netns/bench.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

extern char** environ;

namespace happy_dial::netns {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string ip_string(const asio::ip::address& a) {
    return a.to_string();
}

void check(int status, const std::string& what, const std::string& output = {}) {
    if (status != 0) {
        throw std::runtime_error(what + " failed (exit status " + std::to_string(status) + ")" +
                                 (output.empty() ? "" : ": " + output));
    }
}

struct file_id {
    dev_t dev;
    ino_t ino;
    bool operator==(const file_id&) const = default;
};

std::optional<file_id> id_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return std::nullopt;
    }
    return file_id{st.st_dev, st.st_ino};
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::trunc);  // in place: keeps the bind-mounted inode
    f << text;
    if (!f.flush()) {
        throw std::runtime_error("cannot write " + path);
    }
}

}  // namespace

const char* to_string(impairment i) noexcept {
    switch (i) {
        case impairment::none:
            return "healthy";
        case impairment::black_hole:
            return "black hole";
        case impairment::refused:
            return "refused";
        case impairment::unreachable:
            return "unreachable";
    }
    return "?";
}

address_setup healthy(std::string_view a) {
    return {asio::ip::make_address(std::string(a)), impairment::none, {}};
}
address_setup slow(std::string_view a, std::chrono::milliseconds latency) {
    return {asio::ip::make_address(std::string(a)), impairment::none, latency};
}
address_setup black_holed(std::string_view a) {
    return {asio::ip::make_address(std::string(a)), impairment::black_hole, {}};
}
address_setup refusing(std::string_view a) {
    return {asio::ip::make_address(std::string(a)), impairment::refused, {}};
}
address_setup unreachable(std::string_view a) {
    return {asio::ip::make_address(std::string(a)), impairment::unreachable, {}};
}

int run_command(const std::vector<std::string>& argv, std::string* out, const std::string& input) {
    int in_pipe[2];
    int out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
        throw std::system_error(errno, std::generic_category(), "pipe");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    if (rc != 0) {
        ::close(in_pipe[1]);
        ::close(out_pipe[0]);
        throw std::system_error(rc, std::generic_category(), "cannot run " + argv[0]);
    }
    if (!input.empty()) {
        [[maybe_unused]] auto n = ::write(in_pipe[1], input.data(), input.size());
    }
    ::close(in_pipe[1]);
    // Read its output for at most 10 s, then stop it (by its pid: we started it).
    const auto deadline = clock_type::now() + std::chrono::seconds(10);
    std::string text;
    char buf[4096];
    bool timed_out = false;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{out_pipe[0], POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        const auto n = ::read(out_pipe[0], buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out_pipe[0]);
    if (timed_out) {
        ::kill(pid, SIGKILL);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (out) {
        *out = std::move(text);
    }
    if (timed_out) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string private_namespace_problem() {
    const char* name = std::getenv("HAPPY_DIAL_NETNS");
    if (!name || !*name) {
        return "HAPPY_DIAL_NETNS is not set: run through test/netns/run-in-netns.sh";
    }
    const auto self = id_of("/proc/self/ns/net");
    const auto named = id_of(std::string("/run/netns/") + name);
    if (!self || !named || !(*self == *named)) {
        return std::string("this process is not inside network namespace ") + name;
    }
    const auto init = id_of("/proc/1/ns/net");
    if (init && *init == *self) {
        return "this is the init process's network namespace";
    }
    int interfaces = 0;
    bool only_lo = true;
    if (auto* list = ::if_nameindex()) {
        for (auto* i = list; i->if_index != 0; ++i) {
            ++interfaces;
            only_lo = only_lo && std::string(i->if_name) == "lo";
        }
        ::if_freenameindex(list);
    }
    if (interfaces != 1 || !only_lo) {
        return "the namespace holds other interfaces than lo";
    }
    const std::string etc = std::string("/etc/netns/") + name;
    for (const char* f : {"hosts", "resolv.conf", "nsswitch.conf"}) {
        const auto mounted = id_of(std::string("/etc/") + f);
        const auto ours = id_of(etc + "/" + f);
        if (!mounted || !ours || !(*mounted == *ours)) {
            return std::string("/etc/") + f + " is not " + etc + "/" + f +
                   " (ip netns exec did not mount it)";
        }
    }
    return {};
}

bench& bench::get() {
    static bench instance;
    return instance;
}

bench::bench() {
    if (const auto problem = private_namespace_problem(); !problem.empty()) {
        throw std::runtime_error("netns bench refused to start: " + problem);
    }
    etc_dir_ = std::string("/etc/netns/") + std::getenv("HAPPY_DIAL_NETNS");
    std::string out;
    check(run_command({"ip", "link", "set", "lo", "up"}, &out), "ip link set lo up", out);
    // A dual-stack host has an IPv6 default route; dial_history's reachability probe (a UDP
    // connect(), nothing is sent) looks for one. Every packet stays on lo.
    check(run_command({"ip", "-6", "route", "add", "default", "dev", "lo"}, &out),
          "ip -6 route add default dev lo",
          out);
    // Name resolution: /etc/hosts first, then the scripted server; one try, 1 s timeout, so a
    // lost answer costs 1 s, not 5 s x 2.
    write_file(etc_dir_ + "/nsswitch.conf", "hosts: files dns\n");
    write_file(etc_dir_ + "/resolv.conf",
               std::string("nameserver ") + dns_address +
                   "\nsearch hd.test\noptions timeout:1 attempts:1\n");
    write_hosts("", {});
    // Every SYN to the test port goes through the SYN queue (log + per-address latency).
    const std::string rule = "-A OUTPUT -p tcp --dport " + std::to_string(port) +
                             " --tcp-flags SYN,ACK,FIN,RST SYN -j NFQUEUE --queue-num " +
                             std::to_string(queue_num);
    for (const char* tool : {"iptables", "ip6tables"}) {
        std::vector<std::string> argv{tool, "-w"};
        std::istringstream words(rule);
        for (std::string w; words >> w;) {
            argv.push_back(w);
        }
        check(run_command(argv, &out), std::string(tool) + " NFQUEUE rule", out);
    }
    queue_ = std::make_unique<syn_queue>(queue_num);
    // The TCP server on every address (the kernel completes handshakes; accepted sockets are
    // closed at once) and the DNS server, on one thread.
    acceptor_v4_.emplace(server_ctx_, tcp::endpoint(tcp::v4(), port));
    acceptor_v6_.emplace(server_ctx_);
    acceptor_v6_->open(tcp::v6());
    acceptor_v6_->set_option(asio::ip::v6_only(true));
    acceptor_v6_->set_option(asio::socket_base::reuse_address(true));
    acceptor_v6_->bind(tcp::endpoint(tcp::v6(), port));
    acceptor_v6_->listen(asio::socket_base::max_listen_connections);
    accept(*acceptor_v4_);
    accept(*acceptor_v6_);
    dns_ = std::make_unique<dns_server>(
        server_ctx_, asio::ip::udp::endpoint(asio::ip::make_address(dns_address), 53));
    server_thread_ = std::thread([this] { server_ctx_.run(); });
}

bench::~bench() {
    server_ctx_.stop();
    if (server_thread_.joinable()) {
        server_thread_.join();
    }
}

void bench::accept(tcp::acceptor& acceptor) {
    acceptor.async_accept([this, &acceptor](boost::system::error_code ec, tcp::socket) {
        if (ec != asio::error::operation_aborted) {
            accept(acceptor);
        }
    });
}

void bench::write_hosts(const std::string& name, const std::vector<asio::ip::address>& addrs) {
    std::string text = "127.0.0.1 localhost\n::1 localhost\n";
    for (const auto& a : addrs) {
        text += ip_string(a) + " " + name + "\n";
    }
    write_file(etc_dir_ + "/hosts", text);
}

void bench::configure(const std::vector<address_setup>& addresses) {
    std::string out;
    // Addresses on lo (nodad: usable at once, no duplicate address detection).
    std::string batch;
    for (const auto& s : addresses) {
        if (std::find(on_lo_.begin(), on_lo_.end(), s.address) != on_lo_.end()) {
            continue;
        }
        on_lo_.push_back(s.address);
        batch += s.address.is_v6() ? "addr replace " + ip_string(s.address) + "/128 dev lo nodad\n"
                                   : "addr replace " + ip_string(s.address) + "/32 dev lo\n";
    }
    if (!batch.empty()) {
        check(run_command({"ip", "-batch", "-"}, &out, batch), "ip -batch (addresses)", out);
    }
    // nftables: one SYN counter per address (output, before the SYN queue) and the impairments
    // (input, after the SYN queue released the packet).
    counters_.clear();
    const std::string p = std::to_string(port);
    std::string counters, counting, impairing;
    for (const auto& s : addresses) {
        const std::string name = "syn_" + std::to_string(counters_.size());
        if (!counters_.emplace(s.address, name).second) {
            continue;
        }
        const std::string match = std::string(s.address.is_v6() ? "ip6" : "ip") + " daddr " +
                                  ip_string(s.address) + " tcp dport " + p;
        const std::string syn = " tcp flags & (syn | ack) == syn";
        counters += "  counter " + name + " {}\n";
        counting += "    " + match + syn + " counter name \"" + name + "\"\n";
        switch (s.kind) {
            case impairment::none:
                break;
            case impairment::black_hole:
                impairing += "    " + match + " drop\n";
                break;
            case impairment::refused:
                impairing += "    " + match + " reject with tcp reset\n";
                break;
            case impairment::unreachable:
                impairing += "    " + match +
                             (s.address.is_v6() ? " reject with icmpv6 type addr-unreachable\n"
                                                : " reject with icmp type host-unreachable\n");
                break;
        }
    }
    const std::string script =
        "add table inet hd_bench\ndelete table inet hd_bench\n"
        "table inet hd_bench {\n" +
        counters +
        "  chain count {\n"
        "    type filter hook output priority -300; policy accept;\n" +
        counting +
        "  }\n"
        "  chain impair {\n"
        "    type filter hook input priority 0; policy accept;\n" +
        impairing + "  }\n}\n";
    check(run_command({"nft", "-f", "-"}, &out, script), "nft (impairments)", out + "\n" + script);
    queue_->reset();
    for (const auto& s : addresses) {
        if (s.kind == impairment::unreachable) {
            queue_->set_delay(s.address, unreachable_delay);
        } else if (s.latency.count() > 0) {
            queue_->set_delay(s.address, s.latency);
        }
    }
    dns_->reset();
}

void bench::reset_syns() {
    std::string out;
    check(run_command({"nft", "reset", "counters", "table", "inet", "hd_bench"}, &out),
          "nft reset counters",
          out);
    queue_->reset_log();
}

std::map<asio::ip::address, std::uint64_t> bench::syn_counts() const {
    std::string out;
    check(run_command({"nft", "list", "counters", "table", "inet", "hd_bench"}, &out),
          "nft list counters",
          out);
    // "counter syn_3 {" ... "packets 2 bytes 120"
    std::map<std::string, std::uint64_t> by_name;
    std::istringstream lines(out);
    std::string current;
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string first, second;
        words >> first >> second;
        if (first == "counter") {
            current = second;
        } else if (first == "packets" && !current.empty()) {
            by_name[current] = std::stoull(second);
            current.clear();
        }
    }
    std::map<asio::ip::address, std::uint64_t> counts;
    for (const auto& [address, name] : counters_) {
        auto it = by_name.find(name);
        if (it == by_name.end()) {
            throw std::runtime_error("nft list counters: no counter " + name + " in\n" + out);
        }
        counts[address] = it->second;
    }
    return counts;
}

}  // namespace happy_dial::netns
