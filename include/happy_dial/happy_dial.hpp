// happy_dial: RFC 8305 (Happy Eyeballs v2) TCP connections for Boost.Asio.
#pragma once

#include <happy_dial/async_dial.hpp>
#include <happy_dial/dial.hpp>
#include <happy_dial/dial_options.hpp>
#include <happy_dial/dial_report.hpp>
#include <happy_dial/dialer.hpp>
#include <happy_dial/dns_query.hpp>
#include <happy_dial/error.hpp>
#include <happy_dial/handshake.hpp>
#include <happy_dial/history.hpp>
#include <happy_dial/network_monitor.hpp>
#include <happy_dial/observer.hpp>
#include <happy_dial/resolver.hpp>
