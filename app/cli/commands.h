#pragma once
// One function per top-level noun; each returns the process exit code
// (0 done, 1 failed, 2 usage) and throws UsageError for bad arguments.
#include <string>
#include <vector>

namespace gafx::cli {

int cmd_version(const std::vector<std::string>& args);
int cmd_dataset(const std::vector<std::string>& args);
int cmd_models(const std::vector<std::string>& args);
int cmd_features(const std::vector<std::string>& args);
int cmd_train(const std::vector<std::string>& args);  // cmd_train.cpp
int cmd_runs(const std::vector<std::string>& args);   // cmd_runs.cpp
int cmd_resume(const std::vector<std::string>& args); // cmd_runs.cpp
int cmd_cancel(const std::vector<std::string>& args); // cmd_runs.cpp
int cmd_report(const std::vector<std::string>& args); // cmd_report.cpp
int cmd_bench(const std::vector<std::string>& args);  // cmd_bench.cpp
int cmd_weights(const std::vector<std::string>& args); // cmd_weights.cpp
int cmd_tag(const std::vector<std::string>& args);     // cmd_tag.cpp
int cmd_note(const std::vector<std::string>& args);    // cmd_tag.cpp
int cmd_diff(const std::vector<std::string>& args);    // cmd_diff.cpp
int cmd_embed(const std::vector<std::string>& args);   // cmd_embed.cpp
int cmd_slurm(const std::vector<std::string>& args);   // cmd_slurm.cpp

} // namespace gafx::cli
