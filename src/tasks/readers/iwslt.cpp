// IWSLT 2016 (WIT3): train.tags.<s>-<t>.<lang> (tag lines dropped) and the
// IWSLT16.TED.tst2013 (validation) / tst2014 (test) XML files.
#include <map>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/text/unicode.h"
#include "readers.h"

namespace fs = std::filesystem;

namespace deca::readers {
namespace {

const std::map<std::string, std::string> kLanguages = {
    {"en", "English"}, {"de", "German"}, {"fr", "French"}, {"ar", "Arabic"}, {"cs", "Czech"}};

std::string decode_entities(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out.push_back('&');
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp")
      out += '&';
    else if (ent == "lt")
      out += '<';
    else if (ent == "gt")
      out += '>';
    else if (ent == "quot")
      out += '"';
    else if (ent == "apos")
      out += '\'';
    else if (!ent.empty() && ent[0] == '#') {
      char32_t cp = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X')
                        ? static_cast<char32_t>(std::stoul(std::string(ent.substr(2)), nullptr, 16))
                        : static_cast<char32_t>(std::stoul(std::string(ent.substr(1))));
      text::append_utf8(out, cp);
    } else {
      out.push_back('&');
      continue;
    }
    i = semi;
  }
  return out;
}

// The stripped text of every <seg> inside a <doc>, in file order.
std::vector<std::string> xml_segments(const fs::path& file) {
  const std::string xml = read_file(file);
  std::vector<std::string> segs;
  size_t pos = 0;
  while ((pos = xml.find("<seg", pos)) != std::string::npos) {
    const size_t open_end = xml.find('>', pos);
    if (open_end == std::string::npos) throw DataError::at(file.string(), 0, "unterminated <seg> tag");
    const size_t close = xml.find("</seg>", open_end);
    if (close == std::string::npos) throw DataError::at(file.string(), 0, "<seg> without </seg>");
    std::string body = xml.substr(open_end + 1, close - open_end - 1);
    if (body.rfind("<![CDATA[", 0) == 0 && body.size() >= 12)
      body = body.substr(9, body.size() - 12);
    else
      body = decode_entities(body);
    segs.push_back(text::strip(body));
    pos = close + 6;
  }
  return segs;
}

bool is_tag_line(std::string_view line) {
  static const char* kTags[] = {"<url",      "<keywords",   "<talkid", "<description",
                                "<reviewer", "<translator", "<title",  "<speaker"};
  for (const char* t : kTags)
    if (line.find(t) != std::string_view::npos) return true;
  return false;
}

std::vector<std::string> train_lines(const fs::path& file) {
  std::vector<std::string> out;
  for_each_line(file, [&](std::string_view line, long) {
    if (!is_tag_line(line)) out.push_back(text::strip(line));
  });
  return out;
}

}  // namespace

std::vector<Example> iwslt(const ReadContext& ctx, const std::string& source, const std::string& target) {
  for (const auto& lang : {source, target}) {
    if (!kLanguages.count(lang))
      throw ConfigError("task " + ctx.task() + ": unknown language code \"" + lang + "\" (known: ar, cs, de, en, fr)");
  }
  const std::string pair = source + "-" + target;
  const fs::path dir = ctx.data_root() / "iwslt" / pair;
  const std::string how =
      "download the IWSLT 2016 " + pair + " release (" + pair + ".tgz from WIT3) and unpack it into " + dir.string();
  std::vector<std::string> src, trg;
  fs::path src_file, trg_file;
  if (ctx.split() == Split::Train) {
    src_file = dir / ("train.tags." + pair + "." + source);
    trg_file = dir / ("train.tags." + pair + "." + target);
    require_file(src_file, how);
    require_file(trg_file, how);
    src = train_lines(src_file);
    trg = train_lines(trg_file);
  } else {
    const std::string set = ctx.split() == Split::Validation ? "IWSLT16.TED.tst2013." : "IWSLT16.TED.tst2014.";
    src_file = dir / (set + pair + "." + source + ".xml");
    trg_file = dir / (set + pair + "." + target + ".xml");
    require_file(src_file, how);
    require_file(trg_file, how);
    src = xml_segments(src_file);
    trg = xml_segments(trg_file);
  }
  if (src.size() != trg.size()) {
    throw DataError(src_file.string() + " has " + std::to_string(src.size()) + " segments but " + trg_file.string() +
                    " has " + std::to_string(trg.size()) + "; the two sides must be line-parallel");
  }
  const std::string question = "Translate from " + kLanguages.at(source) + " to " + kLanguages.at(target);
  std::vector<Example> out;
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i].empty() || trg[i].empty()) continue;  // as decaNLP: pairs with an empty side are skipped
    add(out, ctx, src[i], question, {trg[i]});
  }
  return out;
}

}  // namespace deca::readers
