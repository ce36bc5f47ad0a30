#include "resolve/ares_driver.hpp"

#include <happy_dial/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <mutex>

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

// ares_library_init is a no-op on Linux in 1.18 but required by the API contract.
void init_library() {
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

// Cancels a driver from the cancellation signal's thread: the work moves to its strand.
struct cancel_handler {
    std::weak_ptr<ares_driver> driver;
    asio::strand<asio::any_io_executor> strand;
    void (*cancel)(const std::shared_ptr<ares_driver>&);
    void operator()(asio::cancellation_type type) const {
        if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                     asio::cancellation_type::total)) == asio::cancellation_type::none) {
            return;
        }
        if (auto d = driver.lock()) {
            asio::post(strand, [d, f = cancel] { f(d); });
        }
    }
};

}  // namespace

ares_driver::ares_driver(const asio::any_io_executor& executor,
                         std::vector<asio::ip::udp::endpoint> servers)
    : strand_(asio::make_strand(executor)), servers_(std::move(servers)), timer_(strand_) {}

bool ares_driver::use_servers(ares_channel channel) const {
    if (servers_.empty()) {
        return true;
    }
    std::vector<ares_addr_port_node> nodes(servers_.size());
    for (std::size_t i = 0; i < servers_.size(); ++i) {
        auto& n = nodes[i];
        const auto& address = servers_[i].address();
        n.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
        n.udp_port = servers_[i].port();
        n.tcp_port = servers_[i].port();
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

ares_driver::~ares_driver() {
    close_channel();
}

// A channel is still open here only when the context was destroyed with the lookup pending
// (its handlers are destroyed, not run).
void ares_driver::close_channel() noexcept {
    finished_ = true;
    delivered_ = true;
    if (channel_) {
        auto* channel = channel_;
        channel_ = nullptr;
        ares_destroy(channel);
    }
    for (auto& w : watches_) {
        w->descriptor.release();
    }
    watches_.clear();
}

void ares_driver::start(asio::cancellation_slot slot) {
    init_library();
    if (slot.is_connected()) {
        slot.emplace<cancel_handler>(cancel_handler{
            weak_from_this(), strand_, [](const std::shared_ptr<ares_driver>& d) { d->cancel(); }});
    }
    asio::post(strand_, [self = shared_from_this()] { self->open(); });
}

void ares_driver::open() {
    if (finished_) {  // cancelled before it began
        return;
    }
    ares_options options{};
    options.sock_state_cb = &ares_driver::on_socket_state;
    options.sock_state_cb_data = this;
    // Reads /etc/resolv.conf, /etc/nsswitch.conf (lookup order) and the RES_OPTIONS and
    // LOCALDOMAIN variables, as glibc does, on every channel: a changed resolv.conf applies to
    // the next lookup.
    //
    // ARES_FLAG_NOCHECKRESP: c-ares 1.18 otherwise drops SERVFAIL and REFUSED answers and, with
    // no server left, reports ARES_ECONNREFUSED, so a server failure, a refusal and an
    // unreachable server would all read "connection refused". The price: a SERVFAIL ends the
    // query instead of moving to the next nameserver (a timeout still moves on).
    options.flags = ARES_FLAG_NOCHECKRESP;
    const int status =
        ares_init_options(&channel_, &options, ARES_OPT_SOCK_STATE_CB | ARES_OPT_FLAGS);
    if (status != ARES_SUCCESS) {
        channel_ = nullptr;
        finish(ares_error(status) ? ares_error(status) : error::dns_bad_response);
    } else if (!use_servers(channel_)) {
        finish(asio::error::invalid_argument);
    } else {
        issue(channel_);
    }
    after_ares_call();
}

void ares_driver::finish(boost::system::error_code ec) {
    if (!finished_) {
        finished_ = true;
        outcome_ = ec;
    }
}

void ares_driver::cancel() {
    if (finished_) {
        return;
    }
    finish(asio::error::operation_aborted);
    after_ares_call();
}

void ares_driver::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<ares_driver*>(data)->socket_state(fd, readable != 0, writable != 0);
}

// c-ares reports every socket it opens (with the events it waits for) and, before it closes
// one, reports it with none: the descriptor lets go of the fd then, so Asio never deregisters
// a number the kernel may already have handed to someone else.
void ares_driver::socket_state(ares_socket_t fd, bool readable, bool writable) {
    auto it =
        std::find_if(watches_.begin(), watches_.end(), [fd](const auto& w) { return w->fd == fd; });
    if (!readable && !writable) {
        if (it != watches_.end()) {
            (*it)->descriptor.release();  // aborts its waits; their handlers find no watch
            watches_.erase(it);
        }
        return;
    }
    if (it == watches_.end()) {
        watches_.push_back(std::unique_ptr<watch>(
            new watch{fd, next_watch_id_++, asio::posix::stream_descriptor(strand_, fd)}));
        it = std::prev(watches_.end());
    }
    (*it)->want_read = readable;
    (*it)->want_write = writable;
}

void ares_driver::arm(watch& w) {
    using wait = asio::posix::stream_descriptor::wait_type;
    if (w.want_read && !w.reading) {
        w.reading = true;
        w.descriptor.async_wait(wait::wait_read, [self = shared_from_this(), id = w.id](auto ec) {
            self->on_ready(id, true, ec);
        });
    }
    if (w.want_write && !w.writing) {
        w.writing = true;
        w.descriptor.async_wait(wait::wait_write, [self = shared_from_this(), id = w.id](auto ec) {
            self->on_ready(id, false, ec);
        });
    }
}

void ares_driver::on_ready(unsigned id, bool read, boost::system::error_code ec) {
    auto it =
        std::find_if(watches_.begin(), watches_.end(), [id](const auto& w) { return w->id == id; });
    if (it == watches_.end()) {
        return;  // the socket was closed meanwhile
    }
    (read ? (*it)->reading : (*it)->writing) = false;
    if (finished_ || ec == asio::error::operation_aborted) {
        return;
    }
    const ares_socket_t fd = (*it)->fd;
    ares_process_fd(channel_, read ? fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : fd);
    after_ares_call();
}

void ares_driver::on_timeout(unsigned generation, boost::system::error_code ec) {
    if (ec || generation != timer_generation_ || finished_) {
        return;
    }
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // expires due queries
    after_ares_call();
}

// After every call into c-ares: either the lookup is over (tear the channel down, then hand
// the answer on) or wait for what c-ares now waits for.
void ares_driver::after_ares_call() {
    if (finished_) {
        teardown();
        if (!delivered_) {
            delivered_ = true;
            deliver(outcome_);
        }
        return;
    }
    for (auto& w : watches_) {
        arm(*w);
    }
    arm_timer();
}

void ares_driver::arm_timer() {
    ++timer_generation_;
    timeval buffer{};
    const timeval* next = ares_timeout(channel_, nullptr, &buffer);
    if (!next) {
        timer_.cancel();
        return;
    }
    timer_.expires_after(std::chrono::seconds(next->tv_sec) +
                         std::chrono::microseconds(next->tv_usec));
    timer_.async_wait(
        [self = shared_from_this(), g = timer_generation_](auto ec) { self->on_timeout(g, ec); });
}

void ares_driver::teardown() {
    if (channel_) {
        // Ends the queries (their callbacks see ARES_EDESTRUCTION; finish() ignores a second
        // outcome) and closes the sockets, reporting each to socket_state() first.
        auto* channel = channel_;
        channel_ = nullptr;
        ares_destroy(channel);
    }
    for (auto& w : watches_) {
        w->descriptor.release();
    }
    watches_.clear();
    ++timer_generation_;
    timer_.cancel();
}

}  // namespace happy_dial::detail
