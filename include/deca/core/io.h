// File helpers: whole-file reads, line iteration and atomic writes.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace deca {

namespace fs = std::filesystem;

// The whole file as bytes. Throws DataError naming the path when it cannot be read.
std::string read_file(const fs::path& path);

// Calls fn(line, line_number) for each line (1-based), without the line break
// ("\n" or "\r\n"). A last line without a break is still reported.
void for_each_line(const fs::path& path,
                   const std::function<void(std::string_view line, long line_number)>& fn);

// Same, over text already in memory.
void for_each_line_in(std::string_view text,
                      const std::function<void(std::string_view line, long line_number)>& fn);

// Writes to a temporary file beside `path`, flushes it and renames it over
// `path`, so readers see either the old or the new content, never a part.
void write_file_atomic(const fs::path& path, std::string_view content);

// Throws DataError("missing file ...") with `how_to_get` appended when `path` does not exist.
void require_file(const fs::path& path, const std::string& how_to_get);

}  // namespace deca
