// TLS on loopback for the handshake tests: certificates made at test time (no file, no expiry to
// maintain) and a TLS server on its own thread that can hold back its ServerHello.
#pragma once

#include "op/loopback.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace happy_dial::test {

namespace ssl = boost::asio::ssl;

/// A self-signed certificate for localhost, 127.0.0.1 and ::1, with its P-256 key.
class test_certificate {
  public:
    explicit test_certificate(const char* common_name) {
        key_ = ::EVP_EC_gen("P-256");
        cert_ = ::X509_new();
        if (key_ == nullptr || cert_ == nullptr) {
            throw std::runtime_error("test_certificate: out of memory");
        }
        ::X509_set_version(cert_, 2);
        static long serial = 1;
        ::ASN1_INTEGER_set(::X509_get_serialNumber(cert_), serial++);
        ::X509_gmtime_adj(::X509_getm_notBefore(cert_), -3600);
        ::X509_gmtime_adj(::X509_getm_notAfter(cert_), 24 * 3600);
        ::X509_set_pubkey(cert_, key_);
        auto* name = ::X509_get_subject_name(cert_);
        ::X509_NAME_add_entry_by_txt(name,
                                     "CN",
                                     MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(common_name),
                                     -1,
                                     -1,
                                     0);
        ::X509_set_issuer_name(cert_, name);
        add_extension(NID_basic_constraints, "critical,CA:TRUE");
        add_extension(NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
        if (::X509_sign(cert_, key_, ::EVP_sha256()) == 0) {
            throw std::runtime_error("test_certificate: signing failed");
        }
    }
    test_certificate(const test_certificate&) = delete;
    test_certificate& operator=(const test_certificate&) = delete;
    ~test_certificate() {
        ::X509_free(cert_);
        ::EVP_PKEY_free(key_);
    }

    /// A server context presenting this certificate.
    void serve_with(ssl::context& context) const {
        ::SSL_CTX_use_certificate(context.native_handle(), cert_);
        ::SSL_CTX_use_PrivateKey(context.native_handle(), key_);
    }
    /// Makes a client context trust this certificate (and verify peers).
    void trust_in(ssl::context& context) const {
        context.set_verify_mode(ssl::verify_peer);
        ::X509_STORE_add_cert(::SSL_CTX_get_cert_store(context.native_handle()), cert_);
    }

  private:
    void add_extension(int nid, const char* value) {
        ::X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        ::X509V3_set_ctx(&ctx, cert_, cert_, nullptr, nullptr, 0);
        auto* ext = ::X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
        ::X509_add_ext(cert_, ext, -1);
        ::X509_EXTENSION_free(ext);
    }

    EVP_PKEY* key_ = nullptr;
    X509* cert_ = nullptr;
};

/// A TLS server on `address` (port chosen by the kernel), on its own thread: it accepts every
/// connection, waits `hello_delay` before reading the ClientHello (so its ServerHello comes that
/// much later), completes the handshake and writes "hi". It keeps each connection until it is
/// destroyed, or with `forget` closes it once greeted or failed (for the benchmark's thousands
/// of connections). Stops and joins in its destructor.
class tls_server {
  public:
    tls_server(asio::ip::address address,
               const test_certificate& certificate,
               std::chrono::milliseconds hello_delay = {},
               bool forget = false)
        : context_(ssl::context::tls_server),
          acceptor_(io_, {address, 0}),
          delay_(hello_delay),
          forget_(forget) {
        certificate.serve_with(context_);
        ::SSL_CTX_set_alpn_select_cb(context_.native_handle(), &tls_server::note_alpn, this);
        acceptor_.listen();
        accept();
        thread_ = std::thread([this] { io_.run(); });
    }
    tls_server(const tls_server&) = delete;
    tls_server& operator=(const tls_server&) = delete;
    ~tls_server() {
        asio::post(io_, [this] {
            boost::system::error_code ignored;
            acceptor_.close(ignored);
            for (auto& c : connections_) {
                c.stream.next_layer().close(ignored);
                c.timer.cancel();
            }
        });
        thread_.join();
    }
    tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }
    /// Connections accepted so far (each holds a descriptor of this process until the server
    /// is destroyed).
    int accepted() const { return accepted_.load(); }
    /// The ALPN extension of each ClientHello that had one, in wire form (RFC 7301 §3.1); the
    /// server selects none.
    std::vector<std::string> offered_alpns() const {
        std::lock_guard<std::mutex> lock(alpn_mutex_);
        return offered_alpns_;
    }

  private:
    static int note_alpn(SSL*,
                         const unsigned char**,
                         unsigned char*,
                         const unsigned char* in,
                         unsigned int in_length,
                         void* self) {
        auto* server = static_cast<tls_server*>(self);
        std::lock_guard<std::mutex> lock(server->alpn_mutex_);
        server->offered_alpns_.emplace_back(reinterpret_cast<const char*>(in), in_length);
        return SSL_TLSEXT_ERR_NOACK;
    }

    struct connection {
        connection(tcp::socket s, ssl::context& c)
            : stream(std::move(s), c), timer(stream.get_executor()) {}
        ssl::stream<tcp::socket> stream;
        asio::steady_timer timer;
    };

    void accept() {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
            if (ec) {
                return;
            }
            const auto it = connections_.emplace(connections_.end(), std::move(socket), context_);
            ++accepted_;
            auto done = [this, it](boost::system::error_code, std::size_t = 0) {
                if (forget_) {
                    connections_.erase(it);
                }
            };
            it->timer.expires_after(delay_);
            it->timer.async_wait([it, done](boost::system::error_code) {
                it->stream.async_handshake(
                    ssl::stream_base::server, [it, done](boost::system::error_code hec) {
                        if (hec) {
                            done(hec);
                            return;
                        }
                        asio::async_write(it->stream, asio::buffer("hi", 2), done);
                    });
            });
            accept();
        });
    }

    asio::io_context io_;
    ssl::context context_;
    tcp::acceptor acceptor_;
    std::chrono::milliseconds delay_;
    bool forget_;
    std::list<connection> connections_;  // stable addresses for the handlers
    std::atomic<int> accepted_{0};
    mutable std::mutex alpn_mutex_;
    std::vector<std::string> offered_alpns_;
    std::thread thread_;
};

}  // namespace happy_dial::test
