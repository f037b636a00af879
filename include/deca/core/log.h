// Logging without exposing spdlog or fmt in headers: translation units that
// include LibTorch must not see Debian's fmt (the official LibTorch bundles a
// newer fmt that Debian's spdlog cannot use). Messages use "{}" placeholders,
// optionally with a printf-style spec for numbers: "{:.2f}", "{:.3g}".
#pragma once

#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

namespace deca {

namespace detail {
template <class T>
void format_one(std::ostringstream& out, std::string_view spec, const T& v) {
  if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>) {
    if (!spec.empty()) {
      char buf[64];
      std::string f(1, '%');  // not "%" + spec: GCC 12 warns falsely on that form at -O3
      f.append(spec);
      if constexpr (std::is_floating_point_v<T>)
        std::snprintf(buf, sizeof buf, f.c_str(), static_cast<double>(v));
      else
        std::snprintf(buf, sizeof buf, f.c_str(), static_cast<double>(v));
      out << buf;
      return;
    }
  }
  out << v;
}

inline void format_rest(std::ostringstream& out, std::string_view f) { out << f; }

template <class T, class... Rest>
void format_rest(std::ostringstream& out, std::string_view f, const T& v, const Rest&... rest) {
  const size_t open = f.find('{');
  const size_t close = open == std::string_view::npos ? open : f.find('}', open);
  if (close == std::string_view::npos) {
    out << f;
    return;
  }
  out << f.substr(0, open);
  std::string_view spec = f.substr(open + 1, close - open - 1);
  if (!spec.empty() && spec[0] == ':') spec.remove_prefix(1);
  format_one(out, spec, v);
  format_rest(out, f.substr(close + 1), rest...);
}
}  // namespace detail

// format("{} of {:.1f}", 3, 4.25) == "3 of 4.2"
template <class... Args>
std::string format(std::string_view f, const Args&... args) {
  std::ostringstream out;
  detail::format_rest(out, f, args...);
  return out.str();
}

namespace log {
void setup(bool verbose);  // to stderr, "[HH:MM:SS] level message"
void set_verbose(bool verbose);
void silence();
// A process of a multi-process run other than rank 0: warnings and errors only,
// each marked with the rank (rank 0 speaks for the run).
void set_rank(int rank);                            // no messages at all (fuzzing: every bad record would be reported)
void write(int level, const std::string& message);  // 0 debug, 1 info, 2 warning, 3 error

template <class... A>
void debug(std::string_view f, const A&... a) {
  write(0, format(f, a...));
}
template <class... A>
void info(std::string_view f, const A&... a) {
  write(1, format(f, a...));
}
template <class... A>
void warn(std::string_view f, const A&... a) {
  write(2, format(f, a...));
}
template <class... A>
void error(std::string_view f, const A&... a) {
  write(3, format(f, a...));
}
// True the first time this process sees `message` (thread-safe).
bool first_time(const std::string& message);
// A warning about a file that every reading of it would repeat: written once per process.
template <class... A>
void warn_once(std::string_view f, const A&... a) {
  const std::string message = format(f, a...);
  if (first_time(message)) write(2, message);
}
}  // namespace log

}  // namespace deca
