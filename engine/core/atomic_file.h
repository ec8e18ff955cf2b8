#pragma once
// Files that are either the old version or the whole new one, never half of either: written
// to a unique temp file in the same folder, fsynced, renamed over the target, and the folder
// fsynced so the rename itself survives a power loss. Checkpoints and exports use it.
#include <functional>
#include <string>

namespace gafx {

// `fill` writes the content through the given callback (which may be called many times).
// Throws gafx::Error naming `path` (disk full, read-only folder, ...); the target is untouched
// then and the temp file removed.
void write_file_atomic(const std::string& path,
                       const std::function<void(const std::function<void(const void*, size_t)>& write)>& fill);

} // namespace gafx
