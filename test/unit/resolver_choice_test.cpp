#include "catch.hpp"

#include <happy_dial/resolver.hpp>

using happy_dial::choose_resolver;
using happy_dial::resolver_backend;

TEST_CASE("resolver choice: c-ares only where it answers as getaddrinfo would (Go's rule)",
          "[resolver]") {
    const char* plain_resolv = "nameserver 192.0.2.53\nsearch example\n";
    SECTION("files and dns, in either order, choose c-ares") {
        CHECK(choose_resolver("hosts: files dns\n", plain_resolv, true).backend ==
              resolver_backend::c_ares);
        CHECK(choose_resolver("# comment\nhosts:   dns files # x\n", plain_resolv, true).backend ==
              resolver_backend::c_ares);
    }
    SECTION("any other source or an action needs getaddrinfo") {
        for (const char* nss : {"hosts: files mdns4_minimal [NOTFOUND=return] dns\n",
                                "hosts: files resolve [!UNAVAIL=return] dns\n",
                                "hosts: files myhostname dns\n",
                                "passwd: files\n",
                                ""}) {
            const auto choice = choose_resolver(nss, plain_resolv, true);
            CHECK(choice.backend == resolver_backend::system);
            CHECK_FALSE(choice.reason.empty());
        }
    }
    SECTION("resolv.conf options c-ares cannot honour need getaddrinfo") {
        CHECK(choose_resolver(
                  "hosts: files dns", "options ndots:2 timeout:1 attempts:2 rotate\n", true)
                  .backend == resolver_backend::c_ares);
        CHECK(choose_resolver("hosts: files dns", "options edns0 trust-ad\n", true).backend ==
              resolver_backend::c_ares);
        const auto no_aaaa = choose_resolver("hosts: files dns", "options no-aaaa\n", true);
        CHECK(no_aaaa.backend == resolver_backend::system);
        CHECK(no_aaaa.reason.find("no-aaaa") != std::string::npos);
        CHECK(choose_resolver("hosts: files dns", "options use-vc\n", true).backend ==
              resolver_backend::system);
    }
    SECTION("without c-ares built: system") {
        CHECK(choose_resolver("hosts: files dns", plain_resolv, false).backend ==
              resolver_backend::system);
    }
}

TEST_CASE("resolver backends have names", "[resolver]") {
    CHECK(std::string(happy_dial::to_string(resolver_backend::c_ares)) == "c-ares");
    CHECK(std::string(happy_dial::to_string(resolver_backend::system)) == "system");
    CHECK(std::string(happy_dial::to_string(resolver_backend::automatic)) == "automatic");
}
