// Racing through the TLS handshake (happy_dial::async_dial_tls) against the usual sequence, a
// plain asio::async_connect followed by the TLS handshake, on loopback (issue 15). Interleaved
// dial by dial on one io_context against the same in-process TLS server, as bench_dial does.
#include "bench_support.hpp"
#include "op/tls_server.hpp"

#include <happy_dial/tls.hpp>

#include <boost/asio/connect.hpp>

#include <benchmark/benchmark.h>

#include <vector>

namespace {

using namespace happy_dial::bench;
using boost::system::error_code;
namespace ssl = boost::asio::ssl;

// Connect, then handshake: what a client does today. Wall time in ns, negative on failure.
double plain_tls(asio::io_context& ctx,
                 ssl::context& client,
                 const std::vector<tcp::endpoint>& eps) {
    bool ok = false;
    const auto t0 = bench_clock::now();
    ssl::stream<tcp::socket> stream(ctx, client);
    // What async_dial_tls does for "localhost": SNI and host name verification.
    ::SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    stream.set_verify_callback(ssl::host_name_verification("localhost"));
    asio::async_connect(stream.next_layer(), eps, [&](error_code ec, const tcp::endpoint&) {
        if (ec) {
            return;
        }
        stream.async_handshake(ssl::stream_base::client, [&](error_code hec) {
            ok = !hec;
            stream.next_layer().close();
        });
    });
    ctx.run();
    const auto t1 = bench_clock::now();
    ctx.restart();
    return ok ? ns_since(t0, t1) : -1.0;
}

double happy_tls(asio::io_context& ctx,
                 ssl::context& client,
                 const std::vector<tcp::endpoint>& eps) {
    bool ok = false;
    const auto t0 = bench_clock::now();
    happy_dial::async_dial_tls(ctx,
                               client,
                               eps,
                               "localhost",
                               happy_dial::dial_options{},
                               [&](error_code ec, happy_dial::tls_stream stream) {
                                   ok = !ec;
                                   stream.next_layer().close();
                               });
    ctx.run();
    const auto t1 = bench_clock::now();
    ctx.restart();
    return ok ? ns_since(t0, t1) : -1.0;
}

void healthy_tls(benchmark::State& state) {
    const happy_dial::test::test_certificate certificate("happy_dial bench");
    happy_dial::test::tls_server server(asio::ip::make_address("127.0.0.1"), certificate, {}, true);
    ssl::context client(ssl::context::tls_client);
    certificate.trust_in(client);
    asio::io_context ctx;
    const std::vector<tcp::endpoint> eps{server.endpoint()};
    std::vector<double> plain_ns;
    std::vector<double> happy_ns;
    for (int w = 0; w < 50; ++w) {  // warm the allocator caches, OpenSSL and the kernel
        plain_tls(ctx, client, eps);
        happy_tls(ctx, client, eps);
    }
    std::size_t i = 0;
    for (auto _ : state) {
        const bool happy_first = (i++ & 1) != 0;
        for (int k = 0; k < 2; ++k) {
            const bool happy = (k == 0) == happy_first;
            const double ns = happy ? happy_tls(ctx, client, eps) : plain_tls(ctx, client, eps);
            if (ns < 0) {
                state.SkipWithError(happy ? "async_dial_tls failed" : "connect + handshake failed");
                return;
            }
            (happy ? happy_ns : plain_ns).push_back(ns);
        }
    }
    publish_comparison(state, std::move(plain_ns), std::move(happy_ns));
}

}  // namespace

int main(int argc, char** argv) {
    parse_quick_flag(argc, argv);
    auto* b = benchmark::RegisterBenchmark("healthy_tls", healthy_tls);
    if (quick_mode()) {
        b->Iterations(2);
    } else {
        b->MinTime(4.0);
    }
    b->Unit(benchmark::kMicrosecond);
    return run_benchmarks(argc, argv);
}
