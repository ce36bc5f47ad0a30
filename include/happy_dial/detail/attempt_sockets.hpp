// The sockets of one dial's attempts, by attempt id, at stable addresses.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace happy_dial::detail {

/// Attempt ids are dense and issued in order, so the n-th socket made belongs to attempt n.
/// The first two live inside the object (a healthy dial, even dual stack, allocates nothing
/// here); later ones are allocated one by one. A socket never moves while its connect is
/// pending, so a transport may keep a reference to it.
class attempt_sockets {
  public:
    using socket = boost::asio::ip::tcp::socket;

    socket& emplace(const boost::asio::any_io_executor& executor) {
        const std::size_t id = count_++;
        if (id < inline_.size()) {
            return inline_[id].emplace(executor);
        }
        return *overflow_.emplace_back(std::make_unique<socket>(executor));
    }

    socket& operator[](std::size_t id) noexcept {
        return id < inline_.size() ? *inline_[id] : *overflow_[id - inline_.size()];
    }

  private:
    std::array<std::optional<socket>, 2> inline_;
    std::vector<std::unique_ptr<socket>> overflow_;
    std::size_t count_ = 0;
};

}  // namespace happy_dial::detail
