#pragma once
// SHA-256 of files (OpenSSL's libcrypto), for checking fetched and added weights.
#include <string>

namespace gafx::weights {

// False when this build has no OpenSSL/libcurl (the GPU machine's engine-only build): then
// sha256_file and download throw, saying so.
bool can_fetch();

// Lower-case hex. Throws gafx::Error naming the file.
std::string sha256_file(const std::string& path);

// `expected` is a whole digest or a published prefix of at least 8 digits (case-insensitive).
bool hash_matches(const std::string& expected, const std::string& found);

} // namespace gafx::weights
