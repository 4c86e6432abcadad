// JSON values, a strict parser and a compact writer.
//
// The parser accepts exactly RFC 8259 JSON text and applies the I-JSON profile (RFC 7493 clause 2): the
// input must be valid UTF-8 (no overlong forms, no surrogate code points), escaped surrogates must pair,
// and an object must not repeat a member name. JOSE requires the last (RFC 7515 clause 4, RFC 7516
// clause 4): a duplicate header parameter is refused, never resolved silently. Nesting depth is bounded.
// Every refusal is one Category::kUsage error (RSC BAD_REQUEST) naming the byte offset.
//
// Objects keep their members in the order they were read or set, and numbers keep the text they were
// read with, so parse then serialize reproduces compact input byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "m2msec/core/result.h"

namespace m2msec::json {

class Value;
using Array = std::vector<Value>;
using Member = std::pair<std::string, Value>;

// An object: members in order, names unique.
class Object {
 public:
  Object() = default;
  Object(std::initializer_list<Member> members);

  const Value* find(std::string_view name) const;
  Value* find(std::string_view name);
  bool contains(std::string_view name) const { return find(name) != nullptr; }
  // Replaces the value of an existing member in place, or appends a new member.
  void set(std::string name, Value value);
  bool erase(std::string_view name);

  // Defined after Value: std::pair<std::string, Value> must be complete where they are instantiated.
  std::size_t size() const;
  bool empty() const;
  std::vector<Member>::const_iterator begin() const;
  std::vector<Member>::const_iterator end() const;

  friend bool operator==(const Object& a, const Object& b);

 private:
  friend class Parser;
  std::vector<Member> m_members;
};

class Value {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : m_v(b) {}
  Value(int i) : Value(static_cast<std::int64_t>(i)) {}
  Value(std::int64_t i);
  Value(std::string s) : m_v(std::move(s)) {}
  Value(std::string_view s) : m_v(std::string(s)) {}
  Value(const char* s) : m_v(std::string(s)) {}
  Value(Array a) : m_v(std::move(a)) {}
  Value(Object o) : m_v(std::move(o)) {}

  Kind kind() const { return static_cast<Kind>(m_v.index()); }
  bool is_null() const { return kind() == Kind::kNull; }

  // Typed access: nullptr / nullopt when the value is of another kind.
  std::optional<bool> boolean() const;
  // The number as an integer, only if it was written as one (no fraction, no exponent) and fits.
  std::optional<std::int64_t> integer() const;
  // The number's text as written, e.g. "1.5e3".
  const std::string* number_text() const;
  const std::string* string() const { return std::get_if<std::string>(&m_v); }
  const Array* array() const { return std::get_if<Array>(&m_v); }
  Array* array() { return std::get_if<Array>(&m_v); }
  const Object* object() const { return std::get_if<Object>(&m_v); }
  Object* object() { return std::get_if<Object>(&m_v); }

  // A member of an object value (nullptr if this is not an object or has no such member).
  const Value* find(std::string_view name) const;

  // Structural equality; numbers compare by their text.
  friend bool operator==(const Value& a, const Value& b) { return a.m_v == b.m_v; }

 private:
  friend class Parser;
  struct Number {
    std::string text;
    friend bool operator==(const Number&, const Number&) = default;
  };
  explicit Value(Number n) : m_v(std::move(n)) {}

  std::variant<std::nullptr_t, bool, Number, std::string, Array, Object> m_v;
};

inline std::size_t Object::size() const { return m_members.size(); }
inline bool Object::empty() const { return m_members.empty(); }
inline std::vector<Member>::const_iterator Object::begin() const { return m_members.begin(); }
inline std::vector<Member>::const_iterator Object::end() const { return m_members.end(); }

struct ParseLimits {
  std::size_t max_depth = 64;
};

// Parses one JSON text; only whitespace may follow it.
Result<Value> parse(std::string_view text, ParseLimits limits = {});

// The compact form: no insignificant whitespace, members in stored order, strings escaped minimally
// (quotation mark, reverse solidus and control characters only).
std::string serialize(const Value& value);

}  // namespace m2msec::json
