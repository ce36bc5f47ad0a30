// A small JSON reader and a checker for the subset of JSON Schema (draft 2020-12) that
// docs/cli-report.schema.json uses, so the CLI tests need no JSON library and no Python.
#pragma once

#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace happy_dial::test {

struct json_value {
    enum class kind { null, boolean, number, string, array, object };
    kind type = kind::null;
    bool boolean = false;
    double number = 0;
    std::string string;
    std::vector<json_value> items;  // array elements, or object values (in `keys` order)
    std::vector<std::string> keys;  // object keys

    const json_value* find(const std::string& key) const {
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (keys[i] == key) {
                return &items[i];
            }
        }
        return nullptr;
    }
};

/// Reads JSON documents one after another (pretty or one per line); throws on bad input.
class json_reader {
  public:
    explicit json_reader(const std::string& text) : text_(text) {}

    /// Every document in the text.
    std::vector<json_value> all() {
        std::vector<json_value> out;
        for (skip(); pos_ < text_.size(); skip()) {
            out.push_back(value(0));
        }
        return out;
    }

  private:
    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(pos_));
    }
    void skip() {
        while (pos_ < text_.size() &&
               std::string(" \t\r\n").find(text_[pos_]) != std::string::npos) {
            ++pos_;
        }
    }
    char next() {
        if (pos_ >= text_.size()) {
            fail("unexpected end");
        }
        return text_[pos_++];
    }
    void expect(const std::string& word) {
        if (text_.compare(pos_, word.size(), word) != 0) {
            fail("expected " + word);
        }
        pos_ += word.size();
    }
    std::string string_literal() {
        std::string out;
        expect("\"");
        for (char c = next(); c != '"'; c = next()) {
            if (c == '\\') {
                const char e = next();
                const std::string from = "\"\\/bfnrt", to = "\"\\/\b\f\n\r\t";
                if (e == 'u') {
                    pos_ += 4;  // the tests compare ASCII only; keep a placeholder
                    out += '?';
                } else if (from.find(e) != std::string::npos) {
                    out += to[from.find(e)];
                } else {
                    fail("bad escape");
                }
            } else if (static_cast<unsigned char>(c) < 0x20) {
                fail("control character in a string");
            } else {
                out += c;
            }
        }
        return out;
    }
    json_value value(int depth) {
        if (depth > 32) {
            fail("nested too deep");
        }
        skip();
        json_value v;
        const char c = pos_ < text_.size() ? text_[pos_] : '\0';
        if (c == '{' || c == '[') {
            const bool object = c == '{';
            v.type = object ? json_value::kind::object : json_value::kind::array;
            ++pos_;
            skip();
            if (text_[pos_] == (object ? '}' : ']')) {
                ++pos_;
                return v;
            }
            for (char sep = ','; sep == ','; sep = next()) {
                skip();
                if (object) {
                    v.keys.push_back(string_literal());
                    skip();
                    expect(":");
                }
                v.items.push_back(value(depth + 1));
                skip();
            }
            if (text_[pos_ - 1] != (object ? '}' : ']')) {
                fail("unterminated container");
            }
        } else if (c == '"') {
            v.type = json_value::kind::string;
            v.string = string_literal();
        } else if (c == 't' || c == 'f') {
            v.type = json_value::kind::boolean;
            v.boolean = c == 't';
            expect(v.boolean ? "true" : "false");
        } else if (c == 'n') {
            expect("null");
        } else {
            const char* start = text_.c_str() + pos_;
            char* end = nullptr;
            v.type = json_value::kind::number;
            v.number = std::strtod(start, &end);
            if (end == start) {
                fail("unexpected character");
            }
            pos_ += static_cast<std::size_t>(end - start);
        }
        return v;
    }

    std::string text_;
    std::size_t pos_ = 0;
};

inline bool json_equal(const json_value& a, const json_value& b) {
    if (a.type != b.type || a.keys != b.keys || a.items.size() != b.items.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.items.size(); ++i) {
        if (!json_equal(a.items[i], b.items[i])) {
            return false;
        }
    }
    return a.boolean == b.boolean && a.number == b.number && a.string == b.string;
}

/// Checks `doc` against `schema` (`root` resolves "#/$defs/..." references): $ref, type, const,
/// enum, required, properties, items, oneOf, minimum, maximum; other keywords are ignored.
/// Appends one message per violation to `errors`.
inline void check_schema(const json_value& doc,
                         const json_value& schema,
                         const json_value& root,
                         const std::string& where,
                         std::vector<std::string>& errors,
                         int depth = 0) {
    using kind = json_value::kind;
    if (depth > 32) {
        errors.push_back(where + ": schema nested too deep");
        return;
    }
    if (const auto* ref = schema.find("$ref")) {
        const std::string prefix = "#/$defs/";
        const auto* defs = root.find("$defs");
        const auto* target = defs && ref->string.rfind(prefix, 0) == 0
                                 ? defs->find(ref->string.substr(prefix.size()))
                                 : nullptr;
        if (!target) {
            errors.push_back(where + ": unresolved $ref " + ref->string);
            return;
        }
        check_schema(doc, *target, root, where, errors, depth + 1);
    }
    if (const auto* type = schema.find("type")) {
        auto matches = [&](const std::string& name) {
            return (name == "null" && doc.type == kind::null) ||
                   (name == "boolean" && doc.type == kind::boolean) ||
                   (name == "number" && doc.type == kind::number) ||
                   (name == "integer" && doc.type == kind::number &&
                    std::floor(doc.number) == doc.number) ||
                   (name == "string" && doc.type == kind::string) ||
                   (name == "array" && doc.type == kind::array) ||
                   (name == "object" && doc.type == kind::object);
        };
        bool any = type->type == kind::string && matches(type->string);
        for (const auto& t : type->items) {
            any = any || matches(t.string);
        }
        if (!any) {
            errors.push_back(where + ": wrong type");
            return;
        }
    }
    if (const auto* c = schema.find("const"); c && !json_equal(doc, *c)) {
        errors.push_back(where + ": not the constant the schema names");
    }
    if (const auto* e = schema.find("enum")) {
        bool any = false;
        for (const auto& option : e->items) {
            any = any || json_equal(doc, option);
        }
        if (!any) {
            errors.push_back(where + ": not one of the enumerated values");
        }
    }
    if (doc.type == kind::number) {
        const auto* min = schema.find("minimum");
        const auto* max = schema.find("maximum");
        if ((min && doc.number < min->number) || (max && doc.number > max->number)) {
            errors.push_back(where + ": out of range");
        }
    }
    if (doc.type == kind::object) {
        if (const auto* required = schema.find("required")) {
            for (const auto& key : required->items) {
                if (!doc.find(key.string)) {
                    errors.push_back(where + ": missing " + key.string);
                }
            }
        }
        if (const auto* properties = schema.find("properties")) {
            for (std::size_t i = 0; i < properties->keys.size(); ++i) {
                if (const auto* field = doc.find(properties->keys[i])) {
                    check_schema(*field,
                                 properties->items[i],
                                 root,
                                 where + "." + properties->keys[i],
                                 errors,
                                 depth + 1);
                }
            }
        }
    }
    if (const auto* items = schema.find("items"); items && doc.type == kind::array) {
        for (std::size_t i = 0; i < doc.items.size(); ++i) {
            check_schema(doc.items[i],
                         *items,
                         root,
                         where + "[" + std::to_string(i) + "]",
                         errors,
                         depth + 1);
        }
    }
    if (const auto* one_of = schema.find("oneOf")) {
        std::size_t passed = 0;
        for (const auto& option : one_of->items) {
            std::vector<std::string> option_errors;
            check_schema(doc, option, root, where, option_errors, depth + 1);
            passed += option_errors.empty();
        }
        if (passed != 1) {
            errors.push_back(where + ": matches " + std::to_string(passed) +
                             " of the oneOf schemas, not exactly one");
        }
    }
}

}  // namespace happy_dial::test
