#include "deca/core/io.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "deca/core/error.h"
#include "deca/core/stop.h"

namespace fs = std::filesystem;

namespace deca {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError::at(path.string(), 0, std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw DataError::at(path.string(), 0, "read error");
  return std::move(ss).str();
}

void for_each_line_in(std::string_view text, const std::function<void(std::string_view, long)>& fn) {
  long number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    size_t next = end == std::string_view::npos ? text.size() : end + 1;
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    fn(line, ++number);
    pos = next;
  }
}

void for_each_line(const fs::path& path, const std::function<void(std::string_view, long)>& fn) {
  const std::string text = read_file(path);
  for_each_line_in(text, fn);
}

void write_user_file(const fs::path& path, std::string_view content) {
  const std::string abs = fs::absolute(path).lexically_normal().string();
  std::error_code ec;
  const auto status = fs::status(path, ec);  // through links, /proc's too
  if (abs.rfind("/dev/", 0) == 0 || abs.rfind("/proc/", 0) == 0 ||
      (!ec && fs::exists(status) && !fs::is_regular_file(status))) {
    if (fs::is_directory(status)) throw Error("cannot write " + path.string() + ": it is a directory");
    OutputFile out(path.string());  // a device, a pipe, or a descriptor's file (/dev/stdout): written where it is
    out.write(content);
    out.close();
    return;
  }
  fs::path target = path;
  for (int hops = 0; fs::is_symlink(target); ++hops) {
    if (hops == 40) throw Error("cannot write " + path.string() + ": too many levels of symbolic links");
    const fs::path to = fs::read_symlink(target);
    target = to.is_absolute() ? to : target.parent_path() / to;
  }
  write_file_atomic(target, content);
}

void write_file_atomic(const fs::path& path, std::string_view content) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::random_device rd;
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw Error("cannot write " + tmp.string() + ": " + std::strerror(errno));
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error("cannot write " + tmp.string() + ": " + std::strerror(err));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw Error("cannot flush " + tmp.string() + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error("cannot rename " + tmp.string() + " to " + path.string() + ": " + std::strerror(err));
  }
}

OutputFile::OutputFile(const std::string& path) : name_(path == "-" ? "standard output" : path) {
  if (path == "-") {
    fd_ = STDOUT_FILENO;
    return;
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot open", errno);
  owned_ = true;
}

OutputFile::~OutputFile() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

void OutputFile::fail(const char* what, int err) {
  throw Error(std::string(what) + " " + name_ + ": " + std::strerror(err) +
              (err == ENOSPC ? " (the output is incomplete)" : ""));
}

void OutputFile::write(std::string_view data) {
  buffer_.append(data);
  if (buffer_.size() >= (1u << 16)) flush();
}

void OutputFile::flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", errno);
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
}

void OutputFile::close() {
  flush();
  if (!owned_) return;
  // fsync reports write-back errors that write() could not see yet.
  if (::fsync(fd_) != 0 && errno != EINVAL) fail("cannot write", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("cannot close", errno);
}

LineReader::LineReader(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

bool LineReader::next(std::string& line, int idle_ms, const std::function<void()>& idle) {
  bool idle_called = false;
  while (true) {
    const size_t nl = buffer_.find('\n', start_);
    if (nl != std::string::npos || (eof_ && start_ < buffer_.size())) {
      const size_t end = nl == std::string::npos ? buffer_.size() : nl;
      line.assign(buffer_, start_, end - start_);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      start_ = nl == std::string::npos ? buffer_.size() : nl + 1;
      ++line_number_;
      return true;
    }
    if (eof_) return false;
    if (start_ > 0) {
      buffer_.erase(0, start_);
      start_ = 0;
    }
    // Wait in slices, so that a stop signal ends the wait and `idle` is called on time.
    for (int waited = 0;;) {
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, 100);
      if (r > 0) break;
      if (r < 0 && errno != EINTR) break;  // let read() report the problem
      stop::check();
      waited += 100;
      if (idle && !idle_called && idle_ms >= 0 && waited >= idle_ms) {
        idle();
        idle_called = true;
      }
    }
    char chunk[1 << 16];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw DataError::at(name_, line_number_ + 1, std::string("read error: ") + std::strerror(errno));
    }
    if (n == 0)
      eof_ = true;
    else
      buffer_.append(chunk, static_cast<size_t>(n));
  }
}

bool same_file(const fs::path& a, const fs::path& b) {
  if (a == "-") {
    struct stat in {
    }, out{};
    return ::fstat(STDIN_FILENO, &in) == 0 && S_ISREG(in.st_mode) && ::stat(b.c_str(), &out) == 0 &&
           in.st_dev == out.st_dev && in.st_ino == out.st_ino;
  }
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

void require_file(const fs::path& path, const std::string& how_to_get) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status))
    throw DataError("missing file " + path.string() + (how_to_get.empty() ? "" : "; " + how_to_get));
  if (fs::is_directory(status))
    throw DataError(path.string() + " is a folder, not a file" + (how_to_get.empty() ? "" : "; " + how_to_get));
}

}  // namespace deca
