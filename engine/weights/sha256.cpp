#include "weights/sha256.h"

#include "core/error.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <vector>

#ifdef GAFX_HAVE_FETCH
#include <openssl/evp.h>
#endif

namespace gafx::weights {

bool can_fetch() {
#ifdef GAFX_HAVE_FETCH
    return true;
#else
    return false;
#endif
}

std::string sha256_file(const std::string& path) {
#ifdef GAFX_HAVE_FETCH
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
    if (!f) throw Error(path, "cannot open the file to check its SHA-256", "check that it exists and is readable");
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        throw Error(path, "OpenSSL could not start a SHA-256 digest");
    std::vector<unsigned char> buf(1 << 20);
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) EVP_DigestUpdate(ctx.get(), buf.data(), n);
    if (std::ferror(f.get())) throw Error(path, "read error while checking its SHA-256", "check the disk");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
#else
    throw Error(path, "this gafx was built without OpenSSL and libcurl, so it cannot check or fetch weights",
                "build on Debian with libcurl4-openssl-dev installed (scripts/setup.sh)");
#endif
}

bool hash_matches(const std::string& expected, const std::string& found) {
    if (expected.size() < 8 || expected.size() > found.size()) return false;
    for (size_t i = 0; i < expected.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(expected[i])) != std::tolower(static_cast<unsigned char>(found[i])))
            return false;
    return true;
}

} // namespace gafx::weights
