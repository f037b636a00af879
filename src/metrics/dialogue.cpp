// WOZ dialogue state tracking metrics (decaNLP's computeDialogue).
#include <algorithm>
#include <map>
#include <numeric>
#include <optional>
#include <tuple>

#include "deca/metrics/metrics.h"
#include "deca/text/strings.h"
#include "deca/text/unicode.h"
#include "lengths.h"

namespace deca::metrics {
namespace {

struct DeltaState {
  std::map<std::string, std::string> inform;
  // nullopt stands for the reference's `{}` (nothing parsed); a parsed request
  // part is a list, and `{}` never equals a list, not even [''].
  std::optional<std::vector<std::string>> request;
};

using text::split;

// to_delta_state: "slot: value, ...; request, ...".
DeltaState parse(const std::string& line) {
  DeltaState d;
  if (line == "None" || text::strip(line).empty() || text::strip(line) == ";") return d;
  const auto parts = split(line, ';');
  if (parts.size() != 2) return d;  // the reference's unpacking fails: empty state
  std::vector<std::vector<std::string>> fields;
  for (const auto& part : parts) {
    std::vector<std::string> items;
    for (const auto& item : split(text::strip(part), ',')) items.push_back(text::strip(item));
    fields.push_back(std::move(items));
  }
  for (const auto& item : fields[0]) {
    const auto kv = split(item, ':');
    if (kv.size() != 2) continue;
    d.inform[text::strip(kv[0])] = text::strip(kv[1]);
  }
  d.request = fields[1];
  return d;
}

std::string dialogue_prefix(const std::string& id) {
  size_t last = id.rfind('_');
  return last == std::string::npos ? std::string() : id.substr(0, last);
}

}  // namespace

DialogueScores dialogue(const std::vector<std::string>& predictions, const std::vector<std::string>& turn_ids,
                        const std::vector<std::string>& golds) {
  require_same_length("dialogue", "turn ids", predictions.size(), turn_ids.size());
  require_same_length("dialogue", "golds", predictions.size(), golds.size());
  DialogueScores s;
  const size_t n = predictions.size();
  if (n == 0) return s;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Python sorts the tuples (id, prediction, gold, index).
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(turn_ids[a], predictions[a], golds[a], a) < std::tie(turn_ids[b], predictions[b], golds[b], b);
  });
  long joint = 0, request = 0, goal = 0;
  std::map<std::string, std::string> state, gold_state;
  std::optional<std::string> current;
  for (size_t k : order) {
    const std::string prefix = dialogue_prefix(turn_ids[k]);
    if (!current || *current != prefix) {
      state.clear();
      gold_state.clear();
      current = prefix;
    }
    const DeltaState d = parse(predictions[k]);
    const DeltaState g = parse(golds[k]);
    for (const auto& [slot, value] : d.inform) state[slot] = value;
    for (const auto& [slot, value] : g.inform) gold_state[slot] = value;
    joint += state == gold_state;
    request += d.request == g.request;
    goal += d.inform == g.inform;
  }
  const double total = static_cast<double>(n);
  s.joint_goal_em = static_cast<double>(joint) / total * 100;
  s.turn_request_em = static_cast<double>(request) / total * 100;
  s.turn_goal_em = static_cast<double>(goal) / total * 100;
  s.avg_dialogue = (s.joint_goal_em + s.turn_request_em) / 2;
  return s;
}

}  // namespace deca::metrics
