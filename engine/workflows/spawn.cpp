#include "workflows/spawn.h"

#include "core/error.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

extern char** environ;

namespace gafx::workflows {

pid_t spawn_process(const std::vector<std::string>& argv, const std::string& log,
                    const std::vector<std::pair<std::string, std::string>>& env) {
    // Everything the child needs is built before fork: only async-signal-safe calls after it.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> entries;
    for (char** e = environ; *e; ++e) {
        bool replaced = false;
        for (const auto& [name, value] : env)
            if (std::strncmp(*e, name.c_str(), name.size()) == 0 && (*e)[name.size()] == '=') replaced = true;
        if (!replaced) entries.emplace_back(*e);
    }
    for (const auto& [name, value] : env) entries.push_back(name + "=" + value);
    std::vector<char*> envp;
    for (auto& e : entries) envp.push_back(e.data());
    envp.push_back(nullptr);
    int fd = -1;
    if (!log.empty()) {
        fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) throw Error(log, std::string("cannot write the run's log: ") + std::strerror(errno), "check the folder");
    }
    const pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execve(args[0], args.data(), envp.data());
        _exit(127);
    }
    if (fd >= 0) ::close(fd);
    if (pid < 0) throw Error(argv[0], std::string("cannot start a trainer process: ") + std::strerror(errno));
    return pid;
}

int free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw Error("127.0.0.1", std::string("cannot open a socket: ") + std::strerror(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok) throw Error("127.0.0.1", std::string("cannot find a free port: ") + std::strerror(err));
    return ntohs(a.sin_port);
}

} // namespace gafx::workflows
