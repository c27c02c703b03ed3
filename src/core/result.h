// Status and Result<T>: errors as values on every untrusted and hot path.
//
// A Status carries a code (which maps onto an HTTP status and the TAXII error
// object), a stable machine name for the rejection (used in logs and metrics)
// and a human message. Result<T> holds either a T or a non-OK Status.
// Both are [[nodiscard]]; neither throws. Thread-compatible value types.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ctihub {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,   // bad input: 400
  kUnauthenticated,   // 401
  kForbidden,         // 403
  kNotFound,          // 404
  kNotAcceptable,     // 406
  kConflict,          // 409
  kLimitExceeded,     // 413 / 422 / 429 depending on the limit
  kUnsupportedMedia,  // 415
  kUnavailable,       // 503
  kInternal,          // 500: a bug, never bad input
};

std::string_view ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  // A status named after its code (`ErrorCodeName`).
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  // A status with its own stable name ("bad_filter"): lower-case letters, digits and '_',
  // used as the TAXII error_id, in logs and in metrics. The message never repeats it.
  Status(ErrorCode code, std::string name, std::string message)
      : code_(code), name_(std::move(name)), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  // The stable name: the one given at construction, else the code's name.
  std::string_view name() const { return name_.empty() ? ErrorCodeName(code_) : name_; }
  // The name given at construction, else `fallback` (a caller's name for the context).
  std::string_view NameOr(std::string_view fallback) const {
    return name_.empty() ? fallback : std::string_view(name_);
  }
  const std::string& message() const { return message_; }
  // "name: message" ("ok" when OK).
  std::string ToString() const;
  // The text for people: "name: message" when the status was given its own name, else the
  // message alone (a code's name adds nothing a person needs).
  std::string NamedMessage() const;
  // The same rejection with `context` prepended to the message ("file.json: ...").
  Status WithContext(std::string_view context) const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string name_;  // empty: named after code_
  std::string message_;
};

// Each takes a message, or a stable name and a message.
inline Status InvalidArgument(std::string msg) {
  return {ErrorCode::kInvalidArgument, std::move(msg)};
}
inline Status InvalidArgument(std::string name, std::string msg) {
  return {ErrorCode::kInvalidArgument, std::move(name), std::move(msg)};
}
inline Status NotFound(std::string msg) { return {ErrorCode::kNotFound, std::move(msg)}; }
inline Status NotFound(std::string name, std::string msg) {
  return {ErrorCode::kNotFound, std::move(name), std::move(msg)};
}
inline Status Forbidden(std::string msg) { return {ErrorCode::kForbidden, std::move(msg)}; }
inline Status Forbidden(std::string name, std::string msg) {
  return {ErrorCode::kForbidden, std::move(name), std::move(msg)};
}
inline Status Unauthenticated(std::string msg) {
  return {ErrorCode::kUnauthenticated, std::move(msg)};
}
inline Status Unauthenticated(std::string name, std::string msg) {
  return {ErrorCode::kUnauthenticated, std::move(name), std::move(msg)};
}
inline Status Conflict(std::string msg) { return {ErrorCode::kConflict, std::move(msg)}; }
inline Status Conflict(std::string name, std::string msg) {
  return {ErrorCode::kConflict, std::move(name), std::move(msg)};
}
inline Status LimitExceeded(std::string msg) { return {ErrorCode::kLimitExceeded, std::move(msg)}; }
inline Status LimitExceeded(std::string name, std::string msg) {
  return {ErrorCode::kLimitExceeded, std::move(name), std::move(msg)};
}
inline Status Unavailable(std::string msg) { return {ErrorCode::kUnavailable, std::move(msg)}; }
inline Status Unavailable(std::string name, std::string msg) {
  return {ErrorCode::kUnavailable, std::move(name), std::move(msg)};
}
inline Status Internal(std::string msg) { return {ErrorCode::kInternal, std::move(msg)}; }
inline Status Internal(std::string name, std::string msg) {
  return {ErrorCode::kInternal, std::move(name), std::move(msg)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; an OK status when the result holds a value.
  Status status() const { return ok() ? Status::Ok() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ctihub

// Propagates a non-OK Status from an expression returning Status.
#define CTIHUB_RETURN_IF_ERROR(expr) \
  do {                               \
    ::ctihub::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)

#define CTIHUB_CONCAT_INNER(a, b) a##b
#define CTIHUB_CONCAT(a, b) CTIHUB_CONCAT_INNER(a, b)
// Assigns the value of a Result<T> expression to lhs, or returns its Status.
#define CTIHUB_ASSIGN_OR_RETURN(lhs, expr) \
  CTIHUB_ASSIGN_OR_RETURN_IMPL(CTIHUB_CONCAT(_res_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): lhs is a declaration ("auto x") and tmp a name;
// neither compiles in parentheses.
#define CTIHUB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
