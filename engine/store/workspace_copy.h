#pragma once
// Copies between workspace files that no RunStore method holds: they open two databases.
#include <string>

namespace gafx::store {

// Every dataset, class, track and split of the workspace at `from` into the one at `to` (created
// when missing; it must hold no dataset yet), ids kept: the start of a Slurm task's workspace.
void copy_datasets(const std::string& from, const std::string& to);

} // namespace gafx::store
