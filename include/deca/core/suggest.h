// "Did you mean ...?" for a misspelt name: a config key, a task, an option.
#pragma once

#include <string>
#include <vector>

namespace deca {

// Edit distance between a and b: insertions, deletions, substitutions and
// swaps of two neighbouring characters, one edit each.
size_t edit_distance(const std::string& a, const std::string& b);

// The known name nearest to `name`, when it is a typo away (at most 2 edits,
// and fewer than half of the name's characters); empty otherwise.
std::string nearest_name(const std::string& name, const std::vector<std::string>& known);

// " (did you mean X?)" for nearest_name, or "".
std::string did_you_mean(const std::string& name, const std::vector<std::string>& known);

}  // namespace deca
