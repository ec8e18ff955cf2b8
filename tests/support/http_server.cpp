#include "http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <stdexcept>

namespace gafx::test {
namespace {

void send_all(int fd, const char* data, size_t n) {
    while (n > 0) {
        const ssize_t k = ::send(fd, data, n, MSG_NOSIGNAL);
        if (k <= 0) return;
        data += k;
        n -= size_t(k);
    }
}

std::string header_value(const std::string& request, const std::string& name) {
    std::string lower = request;
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    const std::string key = "\r\n" + name + ":";
    const size_t at = lower.find(key);
    if (at == std::string::npos) return {};
    size_t b = at + key.size();
    while (b < request.size() && request[b] == ' ') ++b;
    return request.substr(b, request.find("\r\n", b) - b);
}

} // namespace

HttpServer::HttpServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 8) != 0)
        throw std::runtime_error("test HTTP server: cannot listen on 127.0.0.1");
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
}

HttpServer::~HttpServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
}

void HttpServer::serve(const std::string& name, std::string bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    files_[name] = std::move(bytes);
}

std::string HttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<std::string> HttpServer::ranges() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ranges_;
}

void HttpServer::loop() {
    while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) continue;
        answer(fd);
        ::close(fd);
    }
}

void HttpServer::answer(int fd) {
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 2000) <= 0) return;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        request.append(buf, size_t(n));
    }
    const size_t sp1 = request.find(' '), sp2 = request.find(' ', sp1 + 1);
    std::string path = request.substr(sp1 + 1, sp2 - sp1 - 1);
    if (!path.empty() && path[0] == '/') path.erase(0, 1);
    const std::string range = header_value(request, "range");
    std::string body;
    bool found = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ranges_.push_back(range);
        auto it = files_.find(path);
        if (it != files_.end()) body = it->second, found = true;
    }
    if (!found) {
        const std::string r = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found";
        send_all(fd, r.data(), r.size());
        return;
    }
    size_t from = 0;
    std::string status = "200 OK", extra;
    if (!ignore_range_ && range.rfind("bytes=", 0) == 0) {
        from = size_t(std::stoull(range.substr(6)));
        if (from >= body.size()) {
            const std::string r = "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" +
                                  std::to_string(body.size()) + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            send_all(fd, r.data(), r.size());
            return;
        }
        status = "206 Partial Content";
        extra = "Content-Range: bytes " + std::to_string(from) + "-" + std::to_string(body.size() - 1) + "/" +
                std::to_string(body.size()) + "\r\n";
    }
    const std::string head = "HTTP/1.1 " + status + "\r\nContent-Length: " + std::to_string(body.size() - from) +
                             "\r\n" + extra + "Connection: close\r\n\r\n";
    send_all(fd, head.data(), head.size());
    size_t n = body.size() - from;
    const int64_t cut = cut_after_.exchange(-1);
    if (cut >= 0 && size_t(cut) < n) n = size_t(cut);
    send_all(fd, body.data() + from, n);
}

} // namespace gafx::test
