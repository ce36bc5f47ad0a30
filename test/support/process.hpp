// Runs a program for a test and captures what it prints.
#pragma once

#include "catch.hpp"

#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace happy_dial::test {

struct run_result {
    int status = -1;  ///< exit status, or -1 when killed by a signal
    std::string out;  ///< everything written to stdout
};

/// Runs `command` through the shell; stderr goes to the test log unless redirected.
inline run_result run_command(const std::string& command) {
    run_result r;
    FILE* p = ::popen(command.c_str(), "r");
    REQUIRE(p);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
        r.out.append(buf, n);
    }
    const int status = ::pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace happy_dial::test
