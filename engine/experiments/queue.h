#pragma once
// Queueing an experiment: what `gafx train` and the Experiment page's Train both do before
// training, so it is written once, here.
#include "experiments/experiment.h"
#include "store/run_store.h"

namespace gafx::experiments {

using store::QueuedExperiment;

// Checks `ex` against the workspace as it is now (check_experiment, with its datasets), then
// writes the experiment and one queued run per config in one transaction: on any error
// (invalid, a dataset gone, a full disk) nothing is written. Throws gafx::Error, with the
// field for an invalid experiment. The run ids follow ex.runs. A pretraining run named by
// experiment and seed is stored as the id it resolves to (the newest such run not failed,
// diverged or cancelled); none is an Error on field "pretrained_run".
QueuedExperiment queue(store::RunStore& db, const Experiment& ex);

} // namespace gafx::experiments
