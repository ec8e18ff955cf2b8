#pragma once
// A small HTTP/1.1 file server on 127.0.0.1 for download tests: no test touches the internet.
// GET /NAME answers the bytes served under NAME (404 otherwise), honours `Range: bytes=N-`
// (206) unless told not to, and can cut the first answer short to test resuming.
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gafx::test {

class HttpServer {
public:
    HttpServer(); // listens on an ephemeral port at once
    ~HttpServer();

    void serve(const std::string& name, std::string bytes);
    // The next answer sends only this many body bytes (with the whole Content-Length), then closes.
    void cut_next_after(size_t bytes) { cut_after_ = int64_t(bytes); }
    void ignore_range(bool on) { ignore_range_ = on; }

    int port() const { return port_; }
    std::string url() const; // "http://127.0.0.1:PORT"
    // The Range header of each request so far ("" when none), in order.
    std::vector<std::string> ranges();

private:
    void loop();
    void answer(int fd);

    int listen_fd_ = -1, port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int64_t> cut_after_{-1};
    std::atomic<bool> ignore_range_{false};
    std::mutex mutex_;
    std::map<std::string, std::string> files_;
    std::vector<std::string> ranges_;
    std::thread thread_;
};

} // namespace gafx::test
