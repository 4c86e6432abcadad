#include "m2msec/json/json.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <string>

namespace m2msec::json {

// ---- Object and Value -------------------------------------------------------------------------------

Object::Object(std::initializer_list<Member> members) {
  for (const auto& m : members) {
    M2MSEC_CHECK(!contains(m.first));  // a literal with a repeated name is a programming error
    m_members.push_back(m);
  }
}

const Value* Object::find(std::string_view name) const {
  for (const auto& m : m_members)
    if (m.first == name) return &m.second;
  return nullptr;
}

Value* Object::find(std::string_view name) {
  for (auto& m : m_members)
    if (m.first == name) return &m.second;
  return nullptr;
}

void Object::set(std::string name, Value value) {
  if (Value* existing = find(name)) {
    *existing = std::move(value);
    return;
  }
  m_members.emplace_back(std::move(name), std::move(value));
}

bool Object::erase(std::string_view name) {
  auto it = std::find_if(m_members.begin(), m_members.end(), [&](const Member& m) { return m.first == name; });
  if (it == m_members.end()) return false;
  m_members.erase(it);
  return true;
}

bool operator==(const Object& a, const Object& b) { return a.m_members == b.m_members; }

Value::Value(std::int64_t i) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
  M2MSEC_CHECK(ec == std::errc());
  m_v = Number{std::string(buf, end)};
}

std::optional<bool> Value::boolean() const {
  if (const bool* b = std::get_if<bool>(&m_v)) return *b;
  return std::nullopt;
}

std::optional<std::int64_t> Value::integer() const {
  const Number* n = std::get_if<Number>(&m_v);
  if (n == nullptr || n->text.find_first_of(".eE") != std::string::npos) return std::nullopt;
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(n->text.data(), n->text.data() + n->text.size(), out);
  if (ec != std::errc() || end != n->text.data() + n->text.size()) return std::nullopt;
  return out;
}

const std::string* Value::number_text() const {
  const Number* n = std::get_if<Number>(&m_v);
  return n != nullptr ? &n->text : nullptr;
}

const Value* Value::find(std::string_view name) const {
  const Object* o = object();
  return o != nullptr ? o->find(name) : nullptr;
}

// ---- Parser -----------------------------------------------------------------------------------------

class Parser {
 public:
  Parser(std::string_view text, ParseLimits limits) : m_text(text), m_limits(limits) {}

  Result<Value> document() {
    skip_space();
    M2MSEC_ASSIGN_OR_RETURN(Value v, value(0));
    skip_space();
    if (m_pos != m_text.size()) return fail("unexpected data after the JSON value");
    return v;
  }

 private:
  Error fail(std::string_view what) const {
    return Error::usage("JSON: " + std::string(what) + " at offset " + std::to_string(m_pos));
  }
  bool at_end() const { return m_pos >= m_text.size(); }
  char peek() const { return m_text[m_pos]; }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++m_pos;
  }

  bool literal(std::string_view word) {
    if (m_text.substr(m_pos, word.size()) != word) return false;
    m_pos += word.size();
    return true;
  }

  Result<Value> value(std::size_t depth) {
    if (at_end()) return fail("unexpected end of input");
    switch (peek()) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': {
        M2MSEC_ASSIGN_OR_RETURN(std::string s, string());
        return Value(std::move(s));
      }
      case 't':
        if (literal("true")) return Value(true);
        break;
      case 'f':
        if (literal("false")) return Value(false);
        break;
      case 'n':
        if (literal("null")) return Value(nullptr);
        break;
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return number();
    }
    return fail("invalid value");
  }

  Result<Value> object(std::size_t depth) {
    if (depth > m_limits.max_depth) return fail("nesting too deep");
    ++m_pos;  // '{'
    Object out;
    skip_space();
    if (!at_end() && peek() == '}') {
      ++m_pos;
      return Value(std::move(out));
    }
    for (;;) {
      skip_space();
      if (at_end() || peek() != '"') return fail("expected a member name");
      M2MSEC_ASSIGN_OR_RETURN(std::string name, string());
      skip_space();
      if (at_end() || peek() != ':') return fail("expected ':'");
      ++m_pos;
      skip_space();
      M2MSEC_ASSIGN_OR_RETURN(Value v, value(depth));
      out.m_members.emplace_back(std::move(name), std::move(v));
      skip_space();
      if (at_end()) return fail("unexpected end of input in an object");
      if (peek() == ',') {
        ++m_pos;
        continue;
      }
      if (peek() != '}') return fail("expected ',' or '}'");
      ++m_pos;
      break;
    }
    if (has_duplicate_names(out)) return fail("duplicate member name");
    return Value(std::move(out));
  }

  // Small objects (every JOSE header, most oneM2M bodies) are compared pairwise without allocating; larger ones
  // are sorted, so that an attacker's object with many members does not cost O(n^2).
  static bool has_duplicate_names(const Object& o) {
    constexpr std::size_t kPairwiseLimit = 16;
    if (o.size() <= kPairwiseLimit) {
      for (auto a = o.begin(); a != o.end(); ++a)
        for (auto b = std::next(a); b != o.end(); ++b)
          if (a->first == b->first) return true;
      return false;
    }
    std::vector<std::string_view> names;
    names.reserve(o.size());
    for (const auto& m : o) names.push_back(m.first);
    std::sort(names.begin(), names.end());
    return std::adjacent_find(names.begin(), names.end()) != names.end();
  }

  Result<Value> array(std::size_t depth) {
    if (depth > m_limits.max_depth) return fail("nesting too deep");
    ++m_pos;  // '['
    Array out;
    skip_space();
    if (!at_end() && peek() == ']') {
      ++m_pos;
      return Value(std::move(out));
    }
    for (;;) {
      skip_space();
      M2MSEC_ASSIGN_OR_RETURN(Value v, value(depth));
      out.push_back(std::move(v));
      skip_space();
      if (at_end()) return fail("unexpected end of input in an array");
      if (peek() == ',') {
        ++m_pos;
        continue;
      }
      if (peek() != ']') return fail("expected ',' or ']'");
      ++m_pos;
      return Value(std::move(out));
    }
  }

  // RFC 8259 clause 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  Result<Value> number() {
    const std::size_t start = m_pos;
    auto digits = [&] {
      const std::size_t from = m_pos;
      while (!at_end() && peek() >= '0' && peek() <= '9') ++m_pos;
      return m_pos - from;
    };
    if (peek() == '-') ++m_pos;
    if (at_end()) return fail("invalid number");
    if (peek() == '0') {
      ++m_pos;
    } else if (digits() == 0) {
      return fail("invalid number");
    }
    if (!at_end() && peek() == '.') {
      ++m_pos;
      if (digits() == 0) return fail("invalid number");
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      ++m_pos;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++m_pos;
      if (digits() == 0) return fail("invalid number");
    }
    return Value(Value::Number{std::string(m_text.substr(start, m_pos - start))});
  }

  Result<std::uint32_t> hex4() {
    if (m_text.size() - m_pos < 4) return fail("truncated \\u escape");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = m_text[m_pos++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
      else return fail("invalid \\u escape");
    }
    return v;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    auto put = [&](std::uint32_t b) { out.push_back(static_cast<char>(b)); };
    if (cp < 0x80) {
      put(cp);
    } else if (cp < 0x800) {
      put(0xC0 | (cp >> 6));
      put(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      put(0xE0 | (cp >> 12));
      put(0x80 | ((cp >> 6) & 0x3F));
      put(0x80 | (cp & 0x3F));
    } else {
      put(0xF0 | (cp >> 18));
      put(0x80 | ((cp >> 12) & 0x3F));
      put(0x80 | ((cp >> 6) & 0x3F));
      put(0x80 | (cp & 0x3F));
    }
  }

  Result<std::uint32_t> escaped_code_point() {
    M2MSEC_ASSIGN_OR_RETURN(std::uint32_t cp, hex4());
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("unpaired surrogate escape");
    if (cp < 0xD800 || cp > 0xDBFF) return cp;
    if (!literal("\\u")) return fail("unpaired surrogate escape");
    M2MSEC_ASSIGN_OR_RETURN(std::uint32_t low, hex4());
    if (low < 0xDC00 || low > 0xDFFF) return fail("unpaired surrogate escape");
    return 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }

  // One UTF-8 sequence starting at m_pos, checked per RFC 3629 clause 4 (shortest form, no surrogates).
  Result<void> utf8_sequence(std::string& out) {
    const auto b0 = static_cast<std::uint8_t>(peek());
    std::size_t len = 0;
    std::uint32_t min = 0;
    std::uint32_t cp = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) len = 2, min = 0x80, cp = b0 & 0x1Fu;
    else if (b0 >= 0xE0 && b0 <= 0xEF) len = 3, min = 0x800, cp = b0 & 0x0Fu;
    else if (b0 >= 0xF0 && b0 <= 0xF4) len = 4, min = 0x10000, cp = b0 & 0x07u;
    else return fail("invalid UTF-8");
    if (m_text.size() - m_pos < len) return fail("invalid UTF-8");
    for (std::size_t i = 1; i < len; ++i) {
      const auto b = static_cast<std::uint8_t>(m_text[m_pos + i]);
      if ((b & 0xC0) != 0x80) return fail("invalid UTF-8");
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return fail("invalid UTF-8");
    out.append(m_text.substr(m_pos, len));
    m_pos += len;
    return {};
  }

  Result<std::string> string() {
    ++m_pos;  // opening quote
    std::string out;
    for (;;) {
      if (at_end()) return fail("unterminated string");
      const char c = peek();
      if (c == '"') {
        ++m_pos;
        return out;
      }
      if (static_cast<std::uint8_t>(c) < 0x20) return fail("control character in a string");
      if (static_cast<std::uint8_t>(c) >= 0x80) {
        M2MSEC_TRY(utf8_sequence(out));
        continue;
      }
      ++m_pos;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (at_end()) return fail("unterminated string");
      const char e = m_text[m_pos++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          M2MSEC_ASSIGN_OR_RETURN(std::uint32_t cp, escaped_code_point());
          append_utf8(out, cp);
          break;
        }
        default: return fail("invalid escape");
      }
    }
  }

  std::string_view m_text;
  ParseLimits m_limits;
  std::size_t m_pos = 0;
};

Result<Value> parse(std::string_view text, ParseLimits limits) { return Parser(text, limits).document(); }

// ---- Writer -----------------------------------------------------------------------------------------

namespace {

void write_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : s) {
    const auto u = static_cast<std::uint8_t>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void write(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: out += "null"; return;
    case Value::Kind::kBool: out += *v.boolean() ? "true" : "false"; return;
    case Value::Kind::kNumber: out += *v.number_text(); return;
    case Value::Kind::kString: write_string(out, *v.string()); return;
    case Value::Kind::kArray: {
      out.push_back('[');
      bool first = true;
      for (const Value& e : *v.array()) {
        if (!first) out.push_back(',');
        first = false;
        write(out, e);
      }
      out.push_back(']');
      return;
    }
    case Value::Kind::kObject: {
      out.push_back('{');
      bool first = true;
      for (const auto& [name, member] : *v.object()) {
        if (!first) out.push_back(',');
        first = false;
        write_string(out, name);
        out.push_back(':');
        write(out, member);
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::string serialize(const Value& value) {
  std::string out;
  write(out, value);
  return out;
}

}  // namespace m2msec::json
