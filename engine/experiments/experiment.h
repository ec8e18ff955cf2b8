#pragma once
// Experiment files: a base training config plus grid axes, expanded into one run config per
// combination (extractor x classifier x augmentation x pretraining x lr x batch x seed ...).
// JSON is parsed into plain structs here, at the edge; nothing deeper reads JSON. Every error
// is a gafx::Error whose field() holds the JSON path ("$.grid.seed[1]", "$ (run 2 of 4)") and
// the config key a form shows ("seed"), whose reason() says only what is wrong (with the
// allowed values where there is a closed set), in words that fit beside a form field.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gafx::experiments {

// One training run. Defaults are the paper's (section 4.1.3).
struct RunConfig {
    std::string dataset;                 // an imported dataset's name
    std::string extractor = "gafx-u";    // mel | gafx-u | gafx-r | gafx-a
    std::string classifier = "ast-tiny"; // ast-tiny | ast-small
    std::string preset = "paper";        // paper | small (CPU-sized, same code)
    bool augmentation = true;            // 30 s -> clips_per_track x clip_seconds on the training set
    int clips_per_track = 3;
    double clip_seconds = 10.0;
    double track_seconds = 30.0;
    std::string pretraining = "none";    // none | weights (pretrained_weights) | run (pretrained_run)
    std::string pretrained_weights;      // DeiT ImageNet / AST AudioSet / HDemucs file
    // Starting weights per part, loaded before any pretraining run (which overrides them): a name
    // from `gafx weights list`, a family ("deit": the DeiT of the classifier's size), or a file.
    std::string classifier_weights;
    std::string extractor_weights;
    int64_t pretrained_run = 0;          // an AudioSet pretraining run to fine-tune from
    // Or that run named by its experiment and seed ({"experiment": NAME, "seed": S} in JSON),
    // resolved to an id when queued (experiments::queue); a stored config holds the id.
    std::string pretrained_experiment;
    uint64_t pretrained_seed = 0;
    double lr = 5e-5;
    int64_t batch_size = 4;
    int epochs = 80;
    int64_t warmup_steps = 800;
    std::vector<int> lr_halving_epochs = {12, 24, 50, 65};
    std::string precision = "auto";      // auto | fp32 | bf16 | fp16
    // Recompute in backward instead of keeping: GAFX-U's and GAFX-R's segments, GAFX-A's CNN, and
    // every attention layer's probabilities (the blocked kernel on a CPU). Less memory, the same
    // results within bf16 rounding, a slower step.
    bool activation_checkpointing = false;
    std::string compression = "none";    // none | log: the feature map before normalisation (GAFX-U's is not log-like)
    int64_t frames = 0;                  // the classifier's input frames: 0 = what the clip gives; else pad/crop (AST)
    int64_t freq_mask = 0, time_mask = 0; // SpecAugment widths while training (AST: 48, 192); 0 = off
    double mixup = 0;                    // mixup's Beta(alpha, alpha) while training (AST: 0.5); 0 = off
    std::string crop = "tiles";          // tiles | random: training clips at their planned place, or anywhere in the track
    uint64_t seed = 0;
    int fold = -1;                       // k-fold splits: the fold to train (0..K-1); -1 otherwise
};

// The most runs one experiment file may expand to (docs/formats.md); a bigger grid is refused
// before it is expanded, naming each axis and its size.
constexpr uint64_t kMaxRuns = 10000;

struct Experiment {
    std::string name;
    std::string source;            // the JSON text as given, stored with the runs
    std::vector<std::string> axes; // grid factors in file order
    std::vector<RunConfig> runs;   // the expanded grid, last axis varying fastest
    // Experiment files to queue first (paths as given, relative to this file's folder): the
    // pretraining a run names with {"experiment": ..., "seed": ...}. See workflows::queue_file.
    // The file's key is "requires", a keyword from C++20 on (PyTorch 2.13's headers need C++20).
    std::vector<std::string> required_files;
};

// Parses and validates; throws gafx::Error(file, reason, fix, {json_path, key}). `dataset_exists`
// (may be empty) checks that each run's dataset has been imported.
Experiment parse_experiment(const std::string& json_text, const std::string& file,
                            const std::function<bool(const std::string&)>& dataset_exists = {});
Experiment read_experiment(const std::string& path,
                           const std::function<bool(const std::string&)>& dataset_exists = {});

// What parse_experiment checks once the grid is expanded, for an Experiment made or changed in
// code: a name, at least one run, and per run the rules across fields (a dataset named and, with
// `dataset_exists`, imported; clips that fit the track; the pretraining source given). Throws
// gafx::Error without a file.
void check_experiment(const Experiment& ex, const std::function<bool(const std::string&)>& dataset_exists = {});

// Every run's classifier_weights / extractor_weights resolved in the weights folder `dir`
// (weights::default_dir() when empty): the first that is missing throws gafx::Error on that
// field, its fix the `gafx weights fetch` command. Queueing calls it, so nothing is queued or
// trained without the files.
void check_weights(const Experiment& ex, const std::string& dir = {});

// The config as JSON (stored in runs.config); parse_run_config reads it back.
std::string to_json(const RunConfig& c);
RunConfig parse_run_config(const std::string& json_text);

// The factors that differ between runs of one experiment, "extractor=gafx-r classifier=ast-small".
std::string describe(const RunConfig& c, const std::vector<std::string>& axes);

} // namespace gafx::experiments
