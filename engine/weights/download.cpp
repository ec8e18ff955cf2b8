#include "weights/download.h"

#include "core/error.h"

#include <cstdio>
#include <filesystem>
#include <memory>

#include <unistd.h>

#ifdef GAFX_HAVE_FETCH
#include <curl/curl.h>
#endif

namespace fs = std::filesystem;

namespace gafx::weights {

#ifdef GAFX_HAVE_FETCH
namespace {

struct Transfer {
    CURL* curl = nullptr;
    FILE* file = nullptr;
    int64_t start = 0;   // bytes in the part file before this transfer
    int64_t written = 0; // by this transfer
    bool restarted = false, skip_body = false, write_failed = false;
    const DownloadOptions* options = nullptr;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    const size_t bytes = size * n;
    if (t.written == 0 && !t.restarted && !t.skip_body) {
        long code = 0;
        curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 400) t.skip_body = true; // an error page is no part of the file
        else if (code == 200 && t.start > 0) {
            // The server sent the whole file: begin the part file again.
            std::fflush(t.file);
            if (std::fseek(t.file, 0, SEEK_SET) != 0 || ::ftruncate(fileno(t.file), 0) != 0) {
                t.write_failed = true;
                return 0;
            }
            t.start = 0;
            t.restarted = true;
        }
    }
    if (t.skip_body) return bytes;
    if (std::fwrite(data, 1, bytes, t.file) != bytes) {
        t.write_failed = true;
        return 0;
    }
    t.written += int64_t(bytes);
    return bytes;
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
    auto& t = *static_cast<Transfer*>(user);
    if (t.options->progress && !t.skip_body)
        t.options->progress(t.start + int64_t(now), total > 0 ? t.start + int64_t(total) : -1);
    return 0;
}

} // namespace

DownloadResult download(const std::string& url, const std::string& part, const DownloadOptions& options) {
    static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!initialised) throw Error(url, "libcurl could not start");
    std::error_code ec;
    const int64_t have = fs::exists(part, ec) ? int64_t(fs::file_size(part, ec)) : 0;
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(part.c_str(), "ab"), std::fclose);
    if (!file) throw Error(part, "cannot write the download here", "check that the folder exists and is writable");
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw Error(url, "libcurl could not start a transfer");
    Transfer t;
    t.curl = curl.get();
    t.file = file.get();
    t.start = have;
    t.options = &options;
    char message[CURL_ERROR_SIZE] = {};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, long(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, long(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "gafx-workbench");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connect_seconds);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.stall_seconds);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, message);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    // A plain Range header, not CURLOPT_RESUME_FROM: that fails outright on a server which
    // answers 200, where starting over is the useful thing to do.
    const std::string range = std::to_string(have) + "-";
    if (have > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
    const CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    const bool flushed = std::fflush(file.get()) == 0;
    if (t.write_failed || !flushed)
        throw Error(part, "could not write the download (is the disk full?)",
                    "free space and run the same command again: it resumes");
    // A resume past the end: the part file already holds everything the server has.
    if (code == 416) return {false, have};
    if (rc != CURLE_OK && !(rc == CURLE_HTTP_RETURNED_ERROR && code >= 400)) {
        const std::string why = std::string("download failed: ") + (message[0] ? message : curl_easy_strerror(rc));
        if (have + t.written == 0) {
            file.reset();
            fs::remove(part, ec);
            throw Error(url, why, "check the network (or a proxy), or fetch from a copy with --mirror URL");
        }
        throw Error(url, why,
                    "run the same command again: it resumes from the " + std::to_string(have + t.written) +
                        " bytes kept in " + part);
    }
    if (code >= 400)
        throw Error(url, "the server answered HTTP " + std::to_string(code),
                    code == 404 ? "check the URL or the --mirror folder" : "try again later, or use --mirror");
    return {have > 0 && !t.restarted, t.start + t.written};
}

#else

DownloadResult download(const std::string& url, const std::string&, const DownloadOptions&) {
    throw Error(url, "this gafx was built without libcurl, so it cannot download",
                "fetch the file by hand and use gafx weights add FILE --name NAME, or build with libcurl4-openssl-dev");
}

#endif

} // namespace gafx::weights
