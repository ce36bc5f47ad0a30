// Entry point of the netns scenario suite. run-in-netns.sh starts it inside a fresh private
// network namespace; outside one it does nothing and exits with 77 (CTest: skipped).
#define CATCH_CONFIG_RUNNER
#include "catch.hpp"
#include "netns/bench.hpp"

#include <csignal>
#include <iostream>
#include <string_view>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char* argv[]) {
    bool listing = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        listing = listing || a.rfind("--list", 0) == 0 || a == "-h" || a == "--help" ||
                  a.rfind("-l", 0) == 0 || a == "-t";
    }
    if (!listing) {
        if (const auto problem = happy_dial::netns::private_namespace_problem(); !problem.empty()) {
            std::cerr << "SKIPPED: netns scenario suite not run: " << problem << "\n";
            return 77;
        }
        std::signal(SIGPIPE, SIG_IGN);  // a helper command exiting early must not kill us
        // Stop with the wrapper: if it is killed, its trap cannot run, but we still go away.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() == 1) {
            return 1;
        }
    }
    return Catch::Session().run(argc, argv);
}
