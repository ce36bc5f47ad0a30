#include "resolve/ares_channel.hpp"

#include <happy_dial/error.hpp>
#include <happy_dial/resolver.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>

#include <algorithm>
#include <chrono>

namespace happy_dial::detail {

namespace asio = boost::asio;

boost::system::error_code ares_error(int status) {
    switch (status) {
        case ARES_SUCCESS:
        case ARES_ENODATA:
            return {};
        case ARES_ENOTFOUND:
            return asio::error::host_not_found;  // NXDOMAIN
        case ARES_ESERVFAIL:
            return error::dns_server_failure;
        case ARES_EREFUSED:
        case ARES_ENOTIMP:
            return error::dns_refused;
        case ARES_ETIMEOUT:
            return error::dns_timed_out;
        case ARES_ECONNREFUSED:
            return asio::error::connection_refused;  // no server could be reached
        case ARES_EBADNAME:
            return error::invalid_host;
        case ARES_ESERVICE:
            return error::invalid_service;
        case ARES_EBADFAMILY:
            return asio::error::address_family_not_supported;
        case ARES_ENOMEM:
            return asio::error::no_memory;
        case ARES_ECANCELLED:
        case ARES_EDESTRUCTION:
            return asio::error::operation_aborted;
        default:  // EFORMERR, EBADRESP, EBADQUERY, ...
            return error::dns_bad_response;
    }
}

namespace {

// The running runner of each execution context (weakly: pending work owns it).
class ares_runners final : public asio::execution_context::service {
  public:
    using key_type = ares_runners;
    inline static asio::execution_context::id id;
    explicit ares_runners(asio::execution_context& context)
        : asio::execution_context::service(context) {
        ares_library_init(ARES_LIB_INIT_ALL);  // a no-op on Linux, required by the API
    }
    std::mutex mutex;
    std::weak_ptr<ares_channel_runner> current;

  private:
    void shutdown() override {}
};

// Cancels a query from the cancellation signal's thread: the work moves to the strand.
struct cancel_handler {
    std::weak_ptr<ares_request> query;
    std::weak_ptr<ares_channel_runner> runner;
    asio::strand<asio::any_io_executor> strand;
    void (*cancel)(ares_channel_runner&, const std::shared_ptr<ares_request>&);
    void operator()(asio::cancellation_type type) const {
        if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                     asio::cancellation_type::total)) == asio::cancellation_type::none) {
            return;
        }
        auto r = runner.lock();
        auto q = query.lock();
        if (r && q) {
            asio::post(strand, [r, q, f = cancel] { f(*r, q); });
        }
    }
};

// c-ares work runs on the context's plain executor, not inside the strand the first dial by
// name happened to use (which would serialize every later lookup with that dial's handlers).
asio::any_io_executor base_executor(const asio::any_io_executor& executor) {
    using io_executor = asio::io_context::executor_type;
    if (const auto* strand = executor.target<asio::strand<io_executor>>()) {
        return strand->get_inner_executor();
    }
    if (const auto* strand = executor.target<asio::strand<asio::any_io_executor>>()) {
        return strand->get_inner_executor();
    }
    return executor;
}

}  // namespace

struct ares_channel_runner::channel_state {
    struct watch {
        ares_socket_t fd;
        unsigned id;
        asio::posix::stream_descriptor descriptor;
        bool want_read = false;
        bool want_write = false;
        bool reading = false;
        bool writing = false;
    };

    explicit channel_state(const asio::strand<asio::any_io_executor>& s) : strand(s), timer(s) {}
    channel_state(const channel_state&) = delete;
    channel_state& operator=(const channel_state&) = delete;
    ~channel_state() { close(); }

    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
        static_cast<channel_state*>(data)->socket_state(fd, readable != 0, writable != 0);
    }

    // c-ares reports every socket it opens (with the events it waits for) and, before it
    // closes one, reports it with none: the descriptor lets go of the fd then, so Asio never
    // deregisters a number the kernel may already have handed to someone else.
    void socket_state(ares_socket_t fd, bool readable, bool writable) {
        auto it = find_watch([fd](const watch& w) { return w.fd == fd; });
        if (!readable && !writable) {
            if (it != watches.end()) {
                (*it)->descriptor.release();  // aborts its waits; their handlers find no watch
                watches.erase(it);
            }
            return;
        }
        if (it == watches.end()) {
            watches.push_back(std::unique_ptr<watch>(
                new watch{fd, next_watch_id++, asio::posix::stream_descriptor(strand, fd)}));
            it = std::prev(watches.end());
        }
        (*it)->want_read = readable;
        (*it)->want_write = writable;
    }

    template <class Predicate>
    std::vector<std::unique_ptr<watch>>::iterator find_watch(Predicate p) {
        return std::find_if(watches.begin(), watches.end(), [&](const auto& w) { return p(*w); });
    }

    void close() noexcept {
        if (channel) {
            // Ends the queries left (abandoned ones: their callbacks see ARES_EDESTRUCTION and
            // deliver nothing) and closes the sockets, reporting each to socket_state() first.
            auto* c = channel;
            channel = nullptr;
            ares_destroy(c);
        }
        for (auto& w : watches) {
            w->descriptor.release();
        }
        watches.clear();
        issued.clear();
        waited_for = 0;
        ++timer_generation;
        timer_pending = false;
        timer.cancel();
    }

    asio::strand<asio::any_io_executor> strand;
    asio::steady_timer timer;
    ares_channel channel = nullptr;
    std::vector<std::unique_ptr<watch>> watches;
    std::vector<std::shared_ptr<ares_request>> issued;  // c-ares holds callbacks to these
    std::size_t waited_for = 0;                         // issued and not yet delivered
    unsigned next_watch_id = 0;
    unsigned timer_generation = 0;
    bool timer_pending = false;  // a wait of the current generation is outstanding
};

ares_channel_runner::ares_channel_runner(asio::execution_context& context,
                                         const asio::any_io_executor& executor)
    : context_(context), strand_(asio::make_strand(base_executor(executor))) {}

ares_channel_runner::~ares_channel_runner() = default;

std::shared_ptr<ares_channel_runner> ares_channel_runner::of(
    const asio::any_io_executor& executor) {
    auto& context = asio::query(executor, asio::execution::context);
    auto& runners = asio::use_service<ares_runners>(context);
    std::lock_guard<std::mutex> lock(runners.mutex);
    auto runner = runners.current.lock();
    if (!runner) {
        runner = std::make_shared<ares_channel_runner>(context, executor);
        runners.current = runner;
    }
    return runner;
}

void ares_channel_runner::submit(std::shared_ptr<ares_request> query,
                                 asio::cancellation_slot slot) {
    query->runner = this;
    if (slot.is_connected()) {
        slot.emplace<cancel_handler>(cancel_handler{
            query, weak_from_this(), strand_, [](ares_channel_runner& r, const auto& q) {
                r.cancel(q);
            }});
    }
    asio::post(strand_,
               [self = shared_from_this(), query = std::move(query)] { self->begin(query); });
}

void ares_channel_runner::begin(const std::shared_ptr<ares_request>& query) {
    if (query->delivered) {  // cancelled before it began
        return;
    }
    boost::system::error_code ec;
    auto* c = channel_for_new_query(ec);
    if (!c) {
        query->delivered = true;
        query->deliver(ec);
        return;
    }
    c->issued.push_back(query);
    query->issued = true;
    query->channel_state = c;
    ++c->waited_for;
    query->issue(c->channel);  // may call back at once (/etc/hosts)
    after_ares_call(*c);
}

// An open channel with room, else a closed one reopened, else a new one.
ares_channel_runner::channel_state* ares_channel_runner::channel_for_new_query(
    boost::system::error_code& ec) {
    channel_state* closed = nullptr;
    for (auto& c : channels_) {
        if (c->channel && c->waited_for < queries_per_channel) {
            return c.get();
        }
        if (!c->channel && !closed) {
            closed = c.get();
        }
    }
    if (!closed) {
        channels_.push_back(std::make_unique<channel_state>(strand_));
        closed = channels_.back().get();
    }
    ec = open_channel(*closed);
    return ec ? nullptr : closed;
}

boost::system::error_code ares_channel_runner::open_channel(channel_state& c) {
    ares_options options{};
    options.sock_state_cb = &channel_state::on_socket_state;
    options.sock_state_cb_data = &c;
    // ARES_FLAG_NOCHECKRESP: c-ares 1.18 otherwise drops SERVFAIL and REFUSED answers and, with
    // no server left, reports ARES_ECONNREFUSED, so a server failure, a refusal and an
    // unreachable server would all read "connection refused". The price: a SERVFAIL ends the
    // query instead of moving to the next nameserver (a timeout still moves on).
    options.flags = ARES_FLAG_NOCHECKRESP;
    // Reads /etc/resolv.conf, /etc/nsswitch.conf (lookup order) and RES_OPTIONS / LOCALDOMAIN.
    const int status =
        ares_init_options(&c.channel, &options, ARES_OPT_SOCK_STATE_CB | ARES_OPT_FLAGS);
    if (status != ARES_SUCCESS) {
        c.channel = nullptr;
        return ares_error(status) ? ares_error(status) : error::dns_bad_response;
    }
    if (!use_servers(c.channel)) {
        c.close();
        return asio::error::invalid_argument;
    }
    return {};
}

// resolver_settings::dns_servers replaces resolv.conf's nameservers.
bool ares_channel_runner::use_servers(ares_channel channel) {
    const auto servers = resolver_settings_of(context_).dns_servers;
    if (servers.empty()) {
        return true;
    }
    std::vector<ares_addr_port_node> nodes(servers.size());
    for (std::size_t i = 0; i < servers.size(); ++i) {
        auto& n = nodes[i];
        const auto address = servers[i].address();
        n.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
        n.udp_port = servers[i].port();
        n.tcp_port = servers[i].port();
        if (address.is_v6()) {
            n.family = AF_INET6;
            const auto bytes = address.to_v6().to_bytes();
            std::copy(bytes.begin(), bytes.end(), reinterpret_cast<unsigned char*>(&n.addr.addr6));
        } else {
            n.family = AF_INET;
            const auto bytes = address.to_v4().to_bytes();
            std::copy(bytes.begin(), bytes.end(), reinterpret_cast<unsigned char*>(&n.addr.addr4));
        }
    }
    return ares_set_servers_ports(channel, nodes.data()) == ARES_SUCCESS;
}

void ares_channel_runner::on_result(ares_request& query, boost::system::error_code ec) {
    auto& c = *static_cast<channel_state*>(query.channel_state);
    auto it = std::find_if(
        c.issued.begin(), c.issued.end(), [&](const auto& q) { return q.get() == &query; });
    if (it == c.issued.end()) {
        return;
    }
    const auto keep = std::move(*it);  // c-ares is done with it
    c.issued.erase(it);
    if (!query.delivered) {
        query.delivered = true;
        --c.waited_for;
        query.deliver(ec);
    }
}

void ares_channel_runner::cancel(const std::shared_ptr<ares_request>& query) {
    if (query->delivered) {
        return;
    }
    query->delivered = true;
    query->deliver(asio::error::operation_aborted);
    if (query->issued) {
        auto& c = *static_cast<channel_state*>(query->channel_state);
        --c.waited_for;
        if (c.channel) {
            after_ares_call(c);
        }
    }
}

void ares_channel_runner::on_ready(channel_state& c,
                                   unsigned id,
                                   bool read,
                                   boost::system::error_code ec) {
    auto it = c.find_watch([id](const auto& w) { return w.id == id; });
    if (it == c.watches.end()) {
        return;  // the socket was closed meanwhile
    }
    (read ? (*it)->reading : (*it)->writing) = false;
    if (!c.channel || ec == asio::error::operation_aborted) {
        return;
    }
    const ares_socket_t fd = (*it)->fd;
    ares_process_fd(c.channel, read ? fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : fd);
    after_ares_call(c);
}

void ares_channel_runner::on_timeout(channel_state& c,
                                     unsigned generation,
                                     boost::system::error_code ec) {
    if (generation != c.timer_generation) {
        return;  // replaced by an earlier wait
    }
    c.timer_pending = false;
    if (ec || !c.channel) {
        return;
    }
    ares_process_fd(c.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // expires due queries
    after_ares_call(c);
}

// After every call into c-ares: when none of the channel's queries is waited for any more, the
// channel goes (abandoned queries with it); otherwise wait for what c-ares now waits for.
void ares_channel_runner::after_ares_call(channel_state& c) {
    if (c.waited_for == 0) {
        c.close();
        return;
    }
    using wait = asio::posix::stream_descriptor::wait_type;
    for (auto& w : c.watches) {
        if (w->want_read && !w->reading) {
            w->reading = true;
            w->descriptor.async_wait(wait::wait_read,
                                     [self = shared_from_this(), &c, id = w->id](auto ec) {
                                         self->on_ready(c, id, true, ec);
                                     });
        }
        if (w->want_write && !w->writing) {
            w->writing = true;
            w->descriptor.async_wait(wait::wait_write,
                                     [self = shared_from_this(), &c, id = w->id](auto ec) {
                                         self->on_ready(c, id, false, ec);
                                     });
        }
    }
    arm_timer(c);
}

// Re-armed only when c-ares's next timeout is earlier than the pending wait: every query of a
// burst would otherwise reprogram the timer (two system calls each). A wait that fires early
// just asks c-ares again.
void ares_channel_runner::arm_timer(channel_state& c) {
    timeval buffer{};
    const timeval* next = ares_timeout(c.channel, nullptr, &buffer);
    if (!next) {
        return;  // nothing to time out; a pending wait fires once and finds nothing due
    }
    const auto due = std::chrono::steady_clock::now() + std::chrono::seconds(next->tv_sec) +
                     std::chrono::microseconds(next->tv_usec);
    if (c.timer_pending && c.timer.expiry() <= due) {
        return;
    }
    ++c.timer_generation;
    c.timer.expires_at(due);
    c.timer_pending = true;
    c.timer.async_wait([self = shared_from_this(), &c, g = c.timer_generation](auto ec) {
        self->on_timeout(c, g, ec);
    });
}

}  // namespace happy_dial::detail
