#include "tls_dial.hpp"

#include <happy_dial/tls.hpp>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/system_error.hpp>

#include <memory>

namespace happy_dial::cli {

using tcp = boost::asio::ip::tcp;

dial_starter make_tls_starter(boost::asio::io_context& ctx,
                              const command& cmd,
                              std::string& error) {
    namespace ssl = boost::asio::ssl;
    std::shared_ptr<ssl::context> context;
    try {
        context = std::make_shared<ssl::context>(ssl::context::tls_client);
        if (cmd.insecure) {
            context->set_verify_mode(ssl::verify_none);
        } else {
            context->set_default_verify_paths();
            context->set_verify_mode(ssl::verify_peer);
        }
    } catch (const boost::system::system_error& e) {
        error = "cannot set up TLS: ";
        error += e.code().message();
        return {};
    }
    // The handshake stage also checks the name against the certificate (RFC 6125) unless the
    // context verifies nothing; SNI is sent either way, as servers choose their certificate by it.
    return [&ctx,
            context,
            host = cmd.host,
            port = cmd.port,
            addresses = cmd.addresses,
            name = tls_server_name(cmd)](const dial_options& options) {
        const auto close_winner = [](boost::system::error_code, tls_stream stream) {
            boost::system::error_code ignored;
            stream.next_layer().close(ignored);
        };
        if (!addresses.empty()) {
            async_dial_tls(ctx, *context, addresses, name, options, close_winner);
        } else if (name == host) {
            async_dial_tls(ctx, *context, host, port, options, close_winner);
        } else {
            // --sni NAME: async_dial_tls by name would send HOST, so the dial runs the same TLS
            // stage with NAME. The winner's stream stays in the stage and closes with it.
            auto with_name = options;
            with_name.handshake =
                std::make_shared<tls_handshake<>>(ctx.get_executor(), *context, name);
            async_dial(ctx, host, port, with_name, [](boost::system::error_code, tcp::socket) {});
        }
    };
}

}  // namespace happy_dial::cli
