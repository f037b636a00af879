// File helpers: whole-file reads, line iteration and atomic writes.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace deca {

// The whole file as bytes. Throws DataError naming the path when it cannot be read.
std::string read_file(const std::filesystem::path& path);

// Calls fn(line, line_number) for each line (1-based), without the line break
// ("\n" or "\r\n"). A last line without a break is still reported.
void for_each_line(const std::filesystem::path& path,
                   const std::function<void(std::string_view line, long line_number)>& fn);

// Same, over text already in memory.
void for_each_line_in(std::string_view text, const std::function<void(std::string_view line, long line_number)>& fn);

// Writes to a temporary file beside `path`, flushes it and renames it over
// `path`, so readers see either the old or the new content, never a part.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// A file the user named (a report): a regular file is replaced atomically,
// through its symbolic links (a link stays a link, its target is updated); a
// device, a pipe or a path under /dev or /proc (/dev/stdout) is written in place.
void write_user_file(const std::filesystem::path& path, std::string_view content);

// A file, or standard output for "-", written through checked writes: any
// failure (a full disk, a closed pipe) throws Error naming the path and the
// reason ("No space left on device"), so output is never silently cut.
class OutputFile {
 public:
  explicit OutputFile(const std::string& path);  // truncates an existing file
  ~OutputFile();                                 // closes without checking: call close()
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  void write(std::string_view data);
  void flush();  // hands everything written so far to the kernel
  void close();  // flush, fsync (files) and close
  const std::string& name() const { return name_; }

 private:
  [[noreturn]] void fail(const char* what, int err);
  std::string name_;
  int fd_ = -1;
  bool owned_ = false;
  std::string buffer_;
};

// Reads lines from a file descriptor as they arrive. next() returns false at
// the end of the input; before it blocks for more input it calls `idle` once
// when nothing arrived for `idle_ms` (so a caller can answer what it has:
// interactive use, one line in, one answer out). A stop signal ends a wait
// with Interrupted (deca/core/stop.h).
class LineReader {
 public:
  explicit LineReader(int fd, std::string name);
  bool next(std::string& line, int idle_ms = -1, const std::function<void()>& idle = {});
  long line_number() const { return line_number_; }

 private:
  int fd_;
  std::string name_, buffer_;
  size_t start_ = 0;
  bool eof_ = false;
  long line_number_ = 0;
};

// True when both paths name one existing file (also through links); "-" as
// `a` names standard input (`deca-predict --input - --output x < x`).
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);

// Throws DataError("missing file ...") with `how_to_get` appended when `path` does not exist.
void require_file(const std::filesystem::path& path, const std::string& how_to_get);

}  // namespace deca
