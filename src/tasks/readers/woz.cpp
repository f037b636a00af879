// WOZ 2.0 (woz_{train,validate,test}_<lang>.json): one example per user turn;
// the answer is the change of the belief state.
#include <algorithm>

#include "deca/core/error.h"
#include "deca/core/io.h"
#include "deca/text/unicode.h"
#include "readers.h"

namespace fs = std::filesystem;

namespace deca::readers {
namespace {
using Slot = std::pair<std::string, std::string>;

std::string join(const std::vector<std::string>& xs, const char* sep) {
  std::string s;
  for (size_t i = 0; i < xs.size(); ++i) s += (i ? sep : "") + xs[i];
  return s;
}

std::string json_text(const nlohmann::json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }
}  // namespace

std::vector<Example> woz(const ReadContext& ctx, const std::string& language) {
  const char* name = ctx.split() == Split::Train ? "train" : ctx.split() == Split::Validation ? "validate" : "test";
  std::vector<Example> out;
  // woz_id counts the turns of every language before this one, as in decaNLP's
  // derived file (English first, then German).
  long woz_id = 0;
  for (const std::string lang : {"en", "de"}) {
    const fs::path file = ctx.data_root() / "woz" / ("woz_" + std::string(name) + "_" + lang + ".json");
    if (lang != language) {
      if (lang == "en" && fs::exists(file)) {
        const auto dialogues = parse_json_file(file);
        if (dialogues.is_array())
          for (const auto& d : dialogues)
            if (d.is_object() && d.contains("dialogue") && d["dialogue"].is_array())
              woz_id += static_cast<long>(d["dialogue"].size());
      }
      continue;
    }
    require_file(file, "download woz_{train,validate,test}_" + language +
                           ".json from nmrksic/neural-belief-tracker (data/woz/) into " +
                           (ctx.data_root() / "woz").string());
    const auto dialogues = parse_json_file(file);
    if (!dialogues.is_array()) throw DataError::at(file.string(), 0, "expected a JSON array of dialogues");
    for (size_t di = 0; di < dialogues.size(); ++di) {
      const auto& d = dialogues[di];
      if (!d.is_object() || !d.contains("dialogue") || !d["dialogue"].is_array()) {
        ctx.bad(file, 0, "dialogue " + std::to_string(di) + ": expected an object with a \"dialogue\" list of turns");
        continue;
      }
      const auto& turns = d["dialogue"];
      std::vector<Slot> previous;
      for (size_t ti = 0; ti < turns.size(); ++ti, ++woz_id) {
        const auto& t = turns[ti];
        const std::string where = "dialogue " + std::to_string(di) + ", turn " + std::to_string(ti);
        if (!t.is_object() || !t.contains("transcript") || !t["transcript"].is_string() || !t.contains("system_acts") ||
            !t["system_acts"].is_array() || !t.contains("belief_state") || !t["belief_state"].is_array()) {
          ctx.bad(file, 0,
                  where + ": expected \"transcript\" (a string), \"system_acts\" and \"belief_state\" (lists)");
          continue;
        }
        std::vector<std::string> acts;
        for (const auto& act : t["system_acts"]) {
          if (act.is_array()) {
            std::vector<std::string> parts;
            for (const auto& p : act) parts.push_back(json_text(p));
            acts.push_back(join(parts, ": "));
          } else {
            acts.push_back(json_text(act));
          }
        }
        std::string context = join(acts, ", ");
        if (!context.empty()) context += " -- ";
        context += t["transcript"].get<std::string>();

        std::vector<Slot> current, delta;
        std::vector<std::string> requests;
        for (const auto& item : t["belief_state"]) {
          if (!item.is_object() || !item.contains("slots")) continue;
          for (const auto& slot : item["slots"]) {
            if (!slot.is_array() || slot.size() < 2) {
              ctx.bad(file, 0, where + ": a belief-state slot must be [slot, value]");
              continue;
            }
            Slot s{json_text(slot[0]), json_text(slot[1])};
            if (item.value("act", "") == "inform") {
              current.push_back(s);
              if (std::find(previous.begin(), previous.end(), s) == previous.end()) delta.push_back(s);
            } else {
              requests.push_back(s.second);
            }
          }
        }
        previous = current;
        std::vector<std::string> informs;
        for (const auto& [k, v] : delta) informs.push_back(k + ": " + v);
        std::string answer = join(informs, ", ") + ";";
        if (!requests.empty()) answer += " " + join(requests, ", ");
        if (answer.size() <= 1) answer = "None";
        const std::string turn_id = lang + "_" + std::to_string(di) + "_" + std::to_string(ti);
        add(out, ctx, text::collapse_ws(context), "What is the change in state?", {answer},
            {{"woz_id", woz_id}, {"lang_dialogue_turn", turn_id}});
      }
    }
  }
  return out;
}

}  // namespace deca::readers
