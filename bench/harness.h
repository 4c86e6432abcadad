// The main() of a benchmark program that owns things outside itself (child processes, a directory under /tmp):
// the command line, the clean-up at the end, at exit and on a signal, and the report of what did not stop
// cleanly; and the set-up it runs once, when the first benchmark needs it.
#pragma once

#include <benchmark/benchmark.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace m2msec::bench {

struct Program {
  const char* name = "";  // in messages: "bench_cse"
  // The measured time of a row when the command line gives no --benchmark_min_time ("2": 2 s); nullptr:
  // Google Benchmark's default.
  const char* default_min_time = nullptr;
  // After the command line is read, before the benchmarks are registered: makes what `cleanup` undoes (the
  // directory, the fixture). A non-empty result is printed and the program exits 1 (after `cleanup`).
  std::function<std::string()> start = {};
  std::function<void()> register_benchmarks = {};
  // On the main thread, after the signal handlers are installed and before the benchmarks run: the set-up
  // that starts child processes (see SetUpOnce). A child started from a benchmark's worker thread would be
  // killed (PR_SET_PDEATHSIG) as soon as that thread ends.
  std::function<void()> before_run = {};
  // Stops the child processes, removes the directory. Runs once: at the end of main, or at exit if the program
  // ends another way. Its result (the problems, one a line; empty: none) is printed and makes the status 1.
  std::function<std::string()> cleanup = {};
  // The same in a signal handler (SIGINT, SIGTERM, SIGHUP), with only kill, waitpid, fork and exec; the
  // program then ends with status 128 + the signal. Not called if `cleanup` has run.
  void (*cleanup_on_signal)() = nullptr;
};

namespace detail {

inline Program& program() {
  static Program p;
  return p;
}

inline std::atomic<bool>& cleaned() {
  static std::atomic<bool> done{false};
  return done;
}

inline std::string cleanup_once() {
  if (cleaned().exchange(true) || !program().cleanup) return {};
  return program().cleanup();
}

inline void on_signal(int signal_number) {
  if (!cleaned().exchange(true) && program().cleanup_on_signal != nullptr) program().cleanup_on_signal();
  ::_exit(128 + signal_number);
}

}  // namespace detail

// Runs the program: the command line (with the default minimum time inserted unless it names one; unknown
// arguments are an error), SIGPIPE ignored, start, the signal handlers, the benchmarks, the clean-up.
inline int run_program(int argc, char** argv, Program p) {
  std::vector<char*> args(argv, argv + argc);
  std::string default_min_time = p.default_min_time != nullptr ? std::string("--benchmark_min_time=") + p.default_min_time : "";
  if (!default_min_time.empty() &&
      std::none_of(args.begin(), args.end(),
                   [](const char* a) { return std::strncmp(a, "--benchmark_min_time", 20) == 0; })) {
    args.insert(args.begin() + 1, default_min_time.data());
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  std::signal(SIGPIPE, SIG_IGN);
  detail::program() = std::move(p);
  const Program& program = detail::program();
  std::atexit([] { detail::cleanup_once(); });
  if (program.start) {
    if (const std::string why = program.start(); !why.empty()) {
      std::fprintf(stderr, "%s: %s\n", program.name, why.c_str());
      detail::cleanup_once();
      return 1;
    }
  }
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) std::signal(s, detail::on_signal);
  if (program.register_benchmarks) program.register_benchmarks();
  if (program.before_run) program.before_run();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (const std::string problems = detail::cleanup_once(); !problems.empty()) {
    std::fprintf(stderr, "%s: %s", program.name, problems.c_str());
    return 1;
  }
  return 0;
}

// A set-up that runs once per process (Program::before_run calls run()); its failure is the error of every
// benchmark that needs it.
class SetUpOnce {
 public:
  void run(const std::function<std::string()>& set_up) {
    std::call_once(m_once, [&] {
      if (std::string why = set_up(); !why.empty()) m_error = "set-up: " + why;
    });
  }
  // False (and the reason in state, SkipWithError) when the set-up failed or never ran.
  bool ready(benchmark::State& state) {
    std::call_once(m_once, [this] { m_error = "set-up: not run"; });
    if (m_error.empty()) return true;
    state.SkipWithError(m_error.c_str());
    return false;
  }

 private:
  std::once_flag m_once;
  std::string m_error;
};

}  // namespace m2msec::bench
