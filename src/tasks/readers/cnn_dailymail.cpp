// CNN/DailyMail (non-anonymized, See et al.): <source>_wayback_<split>_urls.txt
// lists the stories; each is stories/<sha1(url)>.story.
#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/core/sha1.h"
#include "deca/text/unicode.h"
#include "readers.h"

namespace fs = std::filesystem;

namespace deca::readers {
namespace {

// A line gets a period unless it ends with one of these (abisee's make_datafiles.py).
bool ends_sentence(const std::string& line) {
  static const char* kEnds[] = {".", "!", "?", "'", "`", "\"", "\u2019", "\u201d", ")"};
  for (const char* e : kEnds) {
    const size_t n = std::char_traits<char>::length(e);
    if (line.size() >= n && line.compare(line.size() - n, n, e) == 0) return true;
  }
  return false;
}

}  // namespace

std::vector<Example> cnn_dailymail(const ReadContext& ctx, const std::vector<std::string>& sources) {
  const char* split = ctx.split() == Split::Train        ? "training"
                      : ctx.split() == Split::Validation ? "validation"
                                                         : "test";
  std::vector<Example> out;
  for (const auto& source : sources) {
    const fs::path dir = ctx.data_root() / source / source;
    const fs::path urls = dir / (source + "_wayback_" + split + "_urls.txt");
    require_file(urls, "get the URL lists from abisee/cnn-dailymail (url_lists/) and the " + source +
                           "_stories.tgz archive, unpacked so that " + (dir / "stories").string() +
                           " holds the .story files");
    for_each_line(urls, [&](std::string_view url_line, long line_number) {
      const std::string url = text::strip(url_line);
      if (url.empty()) return;
      const fs::path story = dir / "stories" / (sha1_hex(url) + ".story");
      if (!fs::exists(story)) {
        ctx.bad(urls, line_number, "story file " + story.string() + " of this URL is missing");
        return;
      }
      std::vector<std::string> article, highlight;
      bool in_highlight = false, ok = true;
      for_each_line(story, [&](std::string_view raw, long story_line) {
        if (!ok) return;
        std::string line = text::strip(raw);
        if (line.empty()) return;
        if (line.find("@highlight") == std::string::npos && !ends_sentence(line)) line += ".";
        if (line.rfind("@highlight", 0) == 0) {
          in_highlight = true;
        } else if (line.find("@highlight") != std::string::npos) {
          ctx.bad(story, story_line, "\"@highlight\" must start its line");
          ok = false;
        } else {
          (in_highlight ? highlight : article).push_back(std::move(line));
        }
      });
      if (!ok) return;
      auto join = [](const std::vector<std::string>& lines) {
        std::string s;
        for (size_t i = 0; i < lines.size(); ++i) {
          if (i) s.push_back(' ');
          s += lines[i];
        }
        return text::nfkc(s);
      };
      add(out, ctx, join(article), "What is the summary?", {join(highlight)},
          {{"source", source}, {"story", story.filename().string()}});
    });
  }
  return out;
}

}  // namespace deca::readers
