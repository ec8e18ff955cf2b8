#pragma once
// Pretrained weights by name: the files the paper starts from (ImageNet DeiT for the AST
// classifier, torchaudio's trained Hybrid Demucs for GAFX-U), with where they come from, their
// size, hash and licence, plus the copies a user adds (`gafx weights add`). A run names weights
// by catalogue name, by family ("deit": the DeiT of the run's classifier size) or by file path;
// resolve_weights turns that into a file on this machine or says which command fetches it.
#include <cstdint>
#include <string>
#include <vector>

namespace gafx::weights {

enum class Role { Classifier, Extractor };
const char* to_string(Role r); // "classifier" | "extractor"

struct Entry {
    std::string name;             // "deit-tiny"
    std::string family;           // "deit", "hdemucs"; empty for added copies
    Role role = Role::Classifier;
    std::vector<std::string> fits; // the models it loads into: "ast-tiny", "gafx-u"
    std::string description;
    std::string url;              // empty for added copies
    std::string file_name;        // in the weights folder
    // Hex SHA-256: the whole digest, or (where the publisher gives only that, as torch.hub's
    // file names do) its first eight or more digits. Checked before a fetched file is kept.
    std::string sha256;
    int64_t size = 0;             // bytes; 0 = not published
    std::string licence;
    bool builtin = true;
};

const std::vector<Entry>& builtin_entries();

// $XDG_DATA_HOME/gafx/weights, else ~/.local/share/gafx/weights. Never /tmp: a file found there
// would be trusted as weights.
std::string default_dir();

// The built-in entries, then the copies added to `dir` (its index, added.json). Throws
// gafx::Error naming the index when it is unreadable.
std::vector<Entry> list_entries(const std::string& dir);
const Entry* find_entry(const std::vector<Entry>& entries, const std::string& name);

// Where `e` lives in `dir`, whether or not it is there yet.
std::string entry_path(const Entry& e, const std::string& dir);

// True for a value that names a file ("/", or a weights file extension) rather than an entry.
bool is_file_value(const std::string& value);

// The file for a run's `classifier_weights` / `extractor_weights` value given the run's model
// of that role, names looked up in `dir` (default_dir() when empty, asked only for a name). A
// name must be an entry (or family with an entry) that fits `model`; a file must exist. Throws gafx::Error: an unknown or unfitting name lists the fitting ones; a known
// entry not yet on this machine names the exact `gafx weights fetch` (or add) command.
std::string resolve(const std::string& value, Role role, const std::string& model, const std::string& dir = {});

// The entry a name or family stands for, for `model`; nullptr when none fits. Files: nullptr.
const Entry* entry_for(const std::vector<Entry>& entries, const std::string& value, Role role,
                       const std::string& model);

} // namespace gafx::weights
