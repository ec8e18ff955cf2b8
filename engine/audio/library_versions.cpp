#include "audio/audio_file.h"

#include <sndfile.h>
#include <soxr.h>

namespace gafx::audio {

std::string sndfile_version() { return sf_version_string(); }
std::string soxr_version() { return ::soxr_version(); }

} // namespace gafx::audio
