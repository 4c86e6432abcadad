// Result<T>: a value or an Error, shaped like C++23 std::expected so that it can become an alias later.
// Accessing the wrong alternative is a programmer error and aborts (M2MSEC_CHECK), in every build.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "m2msec/core/error.h"

// Release-mode fatal check for invariants that must never be false at run time.
#define M2MSEC_CHECK(cond)                                                                         \
  do {                                                                                             \
    if (!(cond)) ::m2msec::detail::check_failed(#cond, __FILE__, __LINE__);                        \
  } while (0)

namespace m2msec {
namespace detail {
[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "m2msec: check failed: %s at %s:%d\n", what, file, line);
  std::abort();
}
}  // namespace detail

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>, "Result<Error> is ambiguous");

 public:
  using value_type = T;

  Result(const T& value) : m_v(std::in_place_index<0>, value) {}
  Result(T&& value) : m_v(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}
  template <typename U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
             !std::is_same_v<std::remove_cvref_t<U>, Error> &&
             !std::is_same_v<std::remove_cvref_t<U>, Result>)
  Result(U&& value) : m_v(std::in_place_index<0>, T(std::forward<U>(value))) {}

  bool has_value() const { return m_v.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    M2MSEC_CHECK(has_value());
    return std::get<0>(m_v);
  }
  const T& value() const& {
    M2MSEC_CHECK(has_value());
    return std::get<0>(m_v);
  }
  T&& value() && {
    M2MSEC_CHECK(has_value());
    return std::get<0>(std::move(m_v));
  }
  const Error& error() const& {
    M2MSEC_CHECK(!has_value());
    return std::get<1>(m_v);
  }
  Error&& error() && {
    M2MSEC_CHECK(!has_value());
    return std::get<1>(std::move(m_v));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() = default;
  Result(Error error) : m_error(std::move(error)) {}

  bool has_value() const { return !m_error.has_value(); }
  explicit operator bool() const { return has_value(); }
  void value() const { M2MSEC_CHECK(has_value()); }
  const Error& error() const& {
    M2MSEC_CHECK(!has_value());
    return *m_error;
  }
  Error&& error() && {
    M2MSEC_CHECK(!has_value());
    return std::move(*m_error);
  }

 private:
  std::optional<Error> m_error;
};

}  // namespace m2msec

#define M2MSEC_CONCAT_INNER(a, b) a##b
#define M2MSEC_CONCAT(a, b) M2MSEC_CONCAT_INNER(a, b)

// Evaluates a Result-returning expression; returns its Error from the enclosing function on failure.
#define M2MSEC_TRY(expr)                                                                           \
  do {                                                                                             \
    auto&& m2msec_try_result = (expr);                                                             \
    if (!m2msec_try_result) return std::move(m2msec_try_result).error();                          \
  } while (0)

// `M2MSEC_ASSIGN_OR_RETURN(auto x, f());` declares/assigns x from f()'s value or returns its Error.
#define M2MSEC_ASSIGN_OR_RETURN(lhs, expr)                                                         \
  M2MSEC_ASSIGN_OR_RETURN_IMPL(M2MSEC_CONCAT(m2msec_result_, __LINE__), lhs, expr)
#define M2MSEC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                                               \
  auto tmp = (expr);                                                                               \
  if (!tmp) return std::move(tmp).error();                                                         \
  lhs = std::move(tmp).value()
