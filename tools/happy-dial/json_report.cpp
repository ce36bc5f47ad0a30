#include "json_report.hpp"
#include "timeline.hpp"

#include <cstdio>
#include <sstream>

namespace happy_dial::cli {
namespace {

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep) {
    std::ostringstream os;
    os << ep;
    return os.str();
}

std::string family_text(const boost::asio::ip::tcp::endpoint& ep) {
    return ep.address().is_v6() ? "ipv6" : "ipv4";
}

std::string error_object(const boost::system::error_code& ec) {
    if (!ec) {
        return "null";
    }
    return "{\"category\": " + json_string(ec.category().name()) +
           ", \"value\": " + std::to_string(ec.value()) +
           ", \"message\": " + json_string(ec.message()) + "}";
}

std::string string_or_null(const std::string& text) {
    return text.empty() ? std::string("null") : json_string(text);
}

std::string number(double ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", ms);
    return buf;
}

// An attempt's stages: [{"name": "socks5", "finished_ms": 1.234, "error": null}, ...].
std::string stages_array(const std::vector<stage_report>& stages) {
    std::string out = "[";
    for (const auto& st : stages) {
        if (out.size() > 1) {
            out += ", ";
        }
        out += "{\"name\": ";
        out += json_string(st.name);
        out += ", \"finished_ms\": ";
        out += number(to_ms(st.finished));
        out += ", \"error\": ";
        out += error_object(st.error);
        out += '}';
    }
    out += ']';
    return out;
}

}  // namespace

std::string json_ms(double ms) {
    return number(ms);
}

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    return out + "\"";
}

void write_json(std::ostream& os,
                const std::string& host,
                const std::string& port,
                const dial_report& report,
                int exit_code,
                const std::vector<boost::asio::ip::tcp::endpoint>& addresses) {
    os << "{\n";
    os << "  \"schema_version\": " << json_schema_version << ",\n";
    os << "  \"type\": \"dial\",\n";
    os << "  \"host\": " << string_or_null(host) << ",\n";
    os << "  \"port\": " << string_or_null(port) << ",\n";
    if (addresses.empty()) {
        os << "  \"addresses\": null,\n";
    } else {
        os << "  \"addresses\": [";
        for (std::size_t i = 0; i < addresses.size(); ++i) {
            os << (i ? ", " : "") << json_string(endpoint_text(addresses[i]));
        }
        os << "],\n";
    }
    os << "  \"connected\": " << (report.error ? "false" : "true") << ",\n";
    os << "  \"exit_code\": " << exit_code << ",\n";
    os << "  \"error\": " << error_object(report.error) << ",\n";
    if (report.winner) {
        const auto& w = report.attempts[*report.winner];
        os << "  \"winner\": {\"attempt\": " << *report.winner
           << ", \"endpoint\": " << json_string(endpoint_text(w.endpoint))
           << ", \"family\": " << json_string(family_text(w.endpoint)) << "},\n";
    } else {
        os << "  \"winner\": null,\n";
    }
    os << "  \"non_preferred_family_won\": " << (report.non_preferred_family_won ? "true" : "false")
       << ",\n";
    os << "  \"elapsed_ms\": " << number(to_ms(report.elapsed)) << ",\n";
    if (report.resolver) {
        os << "  \"resolver\": {\"backend\": " << json_string(to_string(report.resolver->backend))
           << ", \"reason\": " << json_string(report.resolver->reason) << "},\n";
    } else {
        os << "  \"resolver\": null,\n";
    }
    if (report.history) {
        const auto& h = *report.history;
        os << "  \"history\": {\"explored\": " << (h.explored ? "true" : "false")
           << ", \"hints\": " << h.hints << ", \"penalised\": " << h.penalised
           << ", \"first_family\": "
           << (h.first_family
                   ? json_string(*h.first_family == address_family::ipv6 ? "ipv6" : "ipv4")
                   : std::string("null"))
           << ", \"ipv6_routable\": " << (h.ipv6_routable ? "true" : "false")
           << ", \"updated\": " << h.updated << "},\n";
    } else {
        os << "  \"history\": null,\n";
    }
    os << "  \"answers\": [";
    for (std::size_t i = 0; i < report.answers.size(); ++i) {
        const auto& a = report.answers[i];
        os << (i ? "," : "") << "\n    {\"query\": "
           << (a.family ? json_string(*a.family == address_family::ipv6 ? "AAAA" : "A")
                        : std::string("null"))
           << ", \"at_ms\": " << number(to_ms(a.at)) << ", \"addresses\": " << a.addresses
           << ", \"accepted\": " << a.accepted
           << ", \"ttl_s\": " << (a.ttl ? std::to_string(a.ttl->count()) : std::string("null"))
           << ", \"error\": " << error_object(a.error) << ", \"endpoints\": [";
        for (std::size_t j = 0; j < a.endpoints.size(); ++j) {
            const auto& e = a.endpoints[j];
            os << (j ? "," : "")
               << "\n      {\"endpoint\": " << json_string(endpoint_text(e.endpoint))
               << ", \"family\": " << json_string(family_text(e.endpoint))
               << ", \"fate\": " << json_string(fate_id(e.fate)) << ", \"attempt\": "
               << (e.attempt ? std::to_string(*e.attempt) : std::string("null")) << "}";
        }
        os << (a.endpoints.empty() ? "" : "\n    ") << "]}";
    }
    os << (report.answers.empty() ? "" : "\n  ") << "],\n";
    os << "  \"attempts\": [";
    for (std::size_t i = 0; i < report.attempts.size(); ++i) {
        const auto& a = report.attempts[i];
        os << (i ? "," : "") << "\n    {\"endpoint\": " << json_string(endpoint_text(a.endpoint))
           << ", \"family\": " << json_string(family_text(a.endpoint))
           << ", \"started_ms\": " << number(to_ms(a.started))
           << ", \"ended_ms\": " << (a.ended ? number(to_ms(*a.ended)) : std::string("null"))
           << ", \"outcome\": " << json_string(describe_attempt(a))
           << ", \"error\": " << error_object(a.error) << ", \"tcp_connected_ms\": "
           << (a.tcp_connected ? number(to_ms(*a.tcp_connected)) : std::string("null"))
           << ", \"stages\": " << stages_array(a.stages)
           << ", \"delay_ms\": " << number(to_ms(a.delay))
           << ", \"delay_from\": " << json_string(to_string(a.delay_from)) << ", \"local\": "
           << (a.local ? json_string(endpoint_text(*a.local)) : std::string("null")) << "}";
    }
    os << (report.attempts.empty() ? "" : "\n  ") << "]\n";
    os << "}\n";
}

std::string compact_json(const std::string& json) {
    std::string out;
    out.reserve(json.size());
    bool in_string = false;
    bool escaped = false;
    for (const char c : json) {
        if (in_string) {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            continue;
        } else {
            in_string = c == '"';
        }
        out += c;
    }
    return out;
}

}  // namespace happy_dial::cli
