#include <happy_dial/detail/dial_core.hpp>
#include <happy_dial/detail/lookup_gate.hpp>

#include <boost/asio/post.hpp>

namespace happy_dial::detail {

namespace asio = boost::asio;

void lookup_ticket::answer(const std::shared_ptr<lookup_ticket>& ticket,
                           core::resolution_answer result) {
    std::lock_guard<std::mutex> lock(ticket->gate->mutex);
    if (!ticket->gate->open || !ticket->target) {
        return;
    }
    // The dial has not released the ticket, so it is not destroyed yet; it may be on its way
    // (its destructor releases under this mutex), in which case lock() gives nothing.
    auto dial = ticket->target->weak_from_this().lock();
    ticket->target = nullptr;
    auto executor = std::move(ticket->executor);
    if (dial) {
        asio::post(executor,
                   [dial = std::move(dial),
                    result = std::move(result),
                    purpose = ticket->purpose,
                    name = std::move(ticket->name)]() mutable {
                       auto* d = dial.get();
                       switch (purpose) {
                           case lookup_purpose::nat64_discovery:
                               d->on_nat64_answer(std::move(dial), std::move(result));
                               break;
                           case lookup_purpose::service_target:
                               d->on_target_answer(std::move(dial), name, std::move(result));
                               break;
                           default:
                               d->on_answer(std::move(dial), std::move(result));
                               break;
                       }
                   });
    }
}

void lookup_ticket::release() {
    asio::any_io_executor dropped;
    bool pending = false;
    {
        std::lock_guard<std::mutex> lock(gate->mutex);
        pending = target != nullptr;
        target = nullptr;
        dropped.swap(executor);
    }
    if (pending) {
        cancel.emit(asio::cancellation_type::terminal);
    }
}

}  // namespace happy_dial::detail
