#include "core/atomic_file.h"

#include "core/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gafx {
namespace {

std::string errno_reason(const char* what) {
    const int e = errno;
    std::string r = std::string(what) + ": " + std::strerror(e);
    return r;
}

std::string fix_for(int e) {
    if (e == ENOSPC || e == EDQUOT) return "free disk space and run again";
    if (e == EFBIG) return "the file passes a size limit (ulimit -f, or the filesystem's): raise it or free space, and run again";
    if (e == EACCES || e == EROFS || e == EPERM) return "make the folder writable or choose another";
    return "check the folder exists and is writable";
}

} // namespace

void write_file_atomic(const std::string& path,
                       const std::function<void(const std::function<void(const void*, size_t)>& write)>& fill) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::error_code ec;
    fs::create_directories(dir, ec);
    std::string tmpl = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
    const int fd = ::mkstemp(tmpl.data());
    if (fd < 0) {
        const int e = errno;
        throw Error(path, errno_reason("cannot create a file beside it"), fix_for(e));
    }
    ::fchmod(fd, 0644); // mkstemp makes 0600; these are ordinary user files
    int failed_errno = 0;
    std::string failed_what;
    auto write = [&](const void* data, size_t bytes) {
        const char* p = static_cast<const char*>(data);
        while (bytes > 0 && !failed_errno) {
            const ssize_t n = ::write(fd, p, bytes);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                failed_errno = n < 0 ? errno : ENOSPC;
                failed_what = "write failed";
                return;
            }
            p += n;
            bytes -= size_t(n);
        }
    };
    try {
        fill(write);
    } catch (...) {
        ::close(fd);
        ::unlink(tmpl.c_str());
        throw;
    }
    if (!failed_errno && ::fsync(fd) != 0) {
        failed_errno = errno;
        failed_what = "fsync failed";
    }
    if (::close(fd) != 0 && !failed_errno) {
        failed_errno = errno;
        failed_what = "close failed";
    }
    if (!failed_errno && ::rename(tmpl.c_str(), path.c_str()) != 0) {
        failed_errno = errno;
        failed_what = "cannot move the finished file into place";
    }
    if (failed_errno) {
        ::unlink(tmpl.c_str());
        errno = failed_errno;
        throw Error(path, errno_reason(failed_what.c_str()) + "; the previous version is kept", fix_for(failed_errno));
    }
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

} // namespace gafx
