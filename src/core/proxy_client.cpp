#include <happy_dial/core/proxy_client.hpp>
#include <happy_dial/error.hpp>

namespace happy_dial::core {

void proxy_client::written() {
    if (step_ != proxy_step::write) {
        return;
    }
    out_.clear();
    on_written();
}

std::size_t proxy_client::input(std::span<const std::uint8_t> bytes) {
    if (step_ != proxy_step::read || bytes.empty()) {
        return 0;
    }
    return on_input(bytes);
}

void proxy_client::closed() {
    if (step_ == proxy_step::write || step_ == proxy_step::read) {
        fail(error::proxy_closed);
    }
}

void proxy_client::fail(boost::system::error_code ec) {
    error_ = ec;
    step_ = proxy_step::failed;
    out_.clear();
}

void proxy_client::send(std::vector<std::uint8_t> bytes) {
    out_ = std::move(bytes);
    step_ = proxy_step::write;
}

std::string base64(std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const auto n = static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16 |
                       static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                       static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 2]));
        out += alphabet[n >> 18 & 63];
        out += alphabet[n >> 12 & 63];
        out += alphabet[n >> 6 & 63];
        out += alphabet[n & 63];
    }
    const auto rest = bytes.size() - i;
    if (rest > 0) {
        auto n = static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16;
        if (rest == 2) {
            n |= static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8;
        }
        out += alphabet[n >> 18 & 63];
        out += alphabet[n >> 12 & 63];
        out += rest == 2 ? alphabet[n >> 6 & 63] : '=';
        out += '=';
    }
    return out;
}

}  // namespace happy_dial::core
