// Scores SST predictions with an installed deca: the task registry, its
// metrics and the report, through the public headers only.
#include <iostream>

#include "deca/eval/report.h"
#include "deca/tasks/task.h"

int main() {
  const auto task = deca::find_task("sst");
  std::vector<deca::Example> golds(2);
  golds[0].answers = {"positive"};
  golds[1].answers = {"negative"};
  deca::EvalReport report;
  report.add(deca::score_task(*task, {"positive", "positive"}, golds));
  std::cout << report.tasks.front().decascore_metric << " " << report.decascore << "\n";
  return report.decascore == 50.0 ? 0 : 1;
}
