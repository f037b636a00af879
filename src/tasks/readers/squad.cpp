// SQuAD v1.1 (and 2.0): data[].paragraphs[].qas[] of train-v1.1.json / dev-v1.1.json.
#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/text/unicode.h"
#include "readers.h"

namespace fs = std::filesystem;

namespace deca::readers {

std::vector<Example> squad(const ReadContext& ctx, bool version2) {
  const std::string version = version2 ? "v2.0" : "v1.1";
  const fs::path file =
      ctx.data_root() / "squad" / ((ctx.split() == Split::Train ? "train-" : "dev-") + version + ".json");
  require_file(file, "download train-" + version + ".json and dev-" + version +
                         ".json from the SQuAD site (rajpurkar.github.io/SQuAD-explorer) into " +
                         (ctx.data_root() / "squad").string());
  const nlohmann::json doc = parse_json_file(file);
  std::vector<Example> out;
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_array())
    throw DataError::at(file.string(), 0, "expected a SQuAD JSON object with a \"data\" array");
  const auto& data = doc["data"];
  for (size_t a = 0; a < data.size(); ++a) {
    const auto& paragraphs = data[a].value("paragraphs", nlohmann::json::array());
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      const auto& par = paragraphs[p];
      const std::string where = "data[" + std::to_string(a) + "].paragraphs[" + std::to_string(p) + "]";
      if (!par.is_object() || !par.contains("context") || !par["context"].is_string() || !par.contains("qas")) {
        ctx.bad(file, 0, where + ": expected an object with \"context\" (string) and \"qas\"");
        continue;
      }
      const std::string& context = par["context"].get_ref<const std::string&>();
      const auto& qas = par["qas"];
      for (size_t q = 0; q < qas.size(); ++q) {
        const auto& qa = qas[q];
        const std::string here = where + ".qas[" + std::to_string(q) + "]";
        if (!qa.is_object() || !qa.contains("question") || !qa["question"].is_string() || !qa.contains("answers") ||
            !qa["answers"].is_array()) {
          ctx.bad(file, 0, here + ": expected \"question\" (string) and \"answers\" (array)");
          continue;
        }
        std::vector<std::string> answers;
        bool ok = true;
        for (const auto& ans : qa["answers"]) {
          if (!ans.is_object() || !ans.contains("text") || !ans["text"].is_string()) {
            ok = false;
            break;
          }
          answers.push_back(ans["text"]);
        }
        if (!ok) {
          ctx.bad(file, 0, here + ": every answer needs a \"text\" string");
          continue;
        }
        nlohmann::json meta = {{"q_id", qa.value("id", "")}};
        if (answers.empty()) {
          if (!version2) {
            ctx.bad(file, 0, here + ": a SQuAD v1.1 question needs at least one answer");
            continue;
          }
          answers.push_back("unanswerable");  // SQuAD 2.0 impossible questions
        } else {
          meta["answer_start"] = qa["answers"][0].value("answer_start", -1);
        }
        add(out, ctx, context, text::collapse_ws(qa["question"].get<std::string>()), std::move(answers),
            std::move(meta));
      }
    }
  }
  return out;
}

}  // namespace deca::readers
