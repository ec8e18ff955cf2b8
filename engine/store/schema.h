#pragma once
#include "store/sqlite_db.h"

namespace gafx::store {

// Ordered migration steps; the schema version is PRAGMA user_version = steps applied.
int latest_schema_version();
int schema_version(Db& db);
// Applies every missing step up to `target` (0: the latest), each in its own transaction. A
// database newer than this build is refused rather than touched. Tests build old workspaces
// with a lower target.
void migrate(Db& db, int target = 0);
// Recomputes the run_summary rows marked stale (by step 6, for runs listed before it); writes
// nothing when none is. Defined beside the summary's query (run_store_runs.cpp).
void refresh_stale_summaries(Db& db);

} // namespace gafx::store
