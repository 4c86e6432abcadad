// Child processes of a benchmark (an m2msecd under test, a command it runs during set-up): started with
// their output in files, waited for with a deadline, described when they fail; and the scratch directory
// under /tmp they work in.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace m2msec::bench {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The end of a log, for an error message.
inline std::string last_lines(std::string text, std::size_t max = 600) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

// Starts argv[0] with stdout and stderr in files; with die_with_parent, the child gets SIGTERM when this
// process dies (so a server never outlives a killed benchmark). -1 if fork failed.
inline pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& out,
                   const std::filesystem::path& err, bool die_with_parent) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (die_with_parent && (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != parent)) ::_exit(126);
  const int in_fd = ::open("/dev/null", O_RDONLY);
  const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (in_fd < 0 || out_fd < 0 || err_fd < 0 || ::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) {
    ::_exit(126);
  }
  ::execv(args[0], args.data());
  ::_exit(127);
}

// Waits for pid up to `timeout`; its wait status, or nullopt if it is still running.
inline std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

inline std::string describe(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

// For a signal handler: runs argv to its end with only fork, exec and waitpid.
inline void run_blocking(const std::vector<std::string>& argv) {
  if (argv.empty()) return;
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (pid > 0) ::waitpid(pid, nullptr, 0);
}

// A fresh directory /tmp/m2msec-<stem>-XXXXXX, removed at the end (or, from a signal handler, by rm -rf).
struct ScratchDir {
  std::filesystem::path path;  // empty until make() succeeded
  std::vector<std::string> rm_argv;

  bool make(std::string_view stem) {
    std::string pattern = "/tmp/m2msec-" + std::string(stem) + "-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return false;
    path = pattern;
    rm_argv = {"/bin/rm", "-rf", pattern};
    return true;
  }
  void remove() const {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
  // For a signal handler.
  void remove_blocking() const { run_blocking(rm_argv); }
};

// The port of a line of `text` that `listening` matches whole (its first group is the port); 0 if none does.
inline int listening_port(const std::string& text, const std::regex& listening) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (std::smatch m; std::regex_match(line, m, listening)) return std::stoi(m[1].str());
  }
  return 0;
}

// A server under test (m2msecd) as a child process that dies with this one, its output in two files.
struct Daemon {
  std::string name;  // in messages: "m2msecd", "m2msecd (sqlite)"
  std::filesystem::path out, err;
  pid_t pid = -1;

  // Starts argv and waits until ready(its standard output so far) holds. Empty when it does; else why not:
  // it exited, or `timeout` passed (`waiting_for` names what it did not print).
  std::string start(const std::vector<std::string>& argv, const std::function<bool(const std::string&)>& ready,
                    std::string_view waiting_for, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    pid = spawn(argv, out, err, true);
    if (pid < 0) return "fork failed";
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const std::string text = read_text(out);
      if (ready(text)) return {};
      if (const auto status = wait_for(pid, std::chrono::milliseconds(0))) {
        pid = -1;
        return name + " exited (" + describe(*status) + "): " + last_lines(read_text(err));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return name + " did not print " + std::string(waiting_for) + " in time: " + last_lines(text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // SIGTERM, then SIGKILL after `timeout`. Empty if it was not running or exited with status 0.
  std::string stop(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    if (pid <= 0) return {};
    ::kill(pid, SIGTERM);
    const std::optional<int> status = wait_for(pid, timeout);
    if (!status) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    pid = -1;
    if (status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return {};
    return name + " did not stop cleanly: " +
           (status ? describe(*status) : std::string("killed after SIGTERM did not stop it")) + "; " +
           last_lines(read_text(err));
  }

  // For a signal handler: SIGTERM (to several daemons first), then reap() each.
  void terminate() const {
    if (pid > 0) ::kill(pid, SIGTERM);
  }
  void reap() const {
    if (pid > 0) ::waitpid(pid, nullptr, 0);
  }
};

}  // namespace m2msec::bench
