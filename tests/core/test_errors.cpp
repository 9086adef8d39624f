#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "core/runtime.hpp"
#include "core/subprocess.hpp"
#include "core/text_file.hpp"

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>
#include <unistd.h>

using namespace rung;

TEST_CASE("input errors name the file and carry exit code 2", "[unit][errors]") {
  try {
    fail_input("/a/b.xml", "truncated");
    FAIL("no throw");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "/a/b.xml: truncated");
    CHECK(e.exit_code() == 2);
    CHECK(e.file() == "/a/b.xml");
  }
  CHECK_THROWS_AS(require_exists("/nonexistent/rung/file"), Error);
}

TEST_CASE("a JSON file is read whole, or the error names it", "[unit][errors]") {
  const auto dir = std::filesystem::temp_directory_path() / "rung_json_file_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "good.json") << R"({"format": "x", "n": 3})";
  std::ofstream(dir / "bad.json") << R"({"format": )";
  const auto j = read_json_file(dir / "good.json");
  CHECK(j.at("n") == 3);
  CHECK_THROWS_WITH(read_json_file(dir / "bad.json"),
                    Catch::Contains("bad.json") && Catch::Contains("is not valid JSON"));
  CHECK_THROWS_WITH(read_json_file(dir / "missing.json"),
                    Catch::Contains("missing.json") && Catch::Contains("does not exist"));
  // A folder given for a file: an input error naming it (an ifstream opens it and reads nothing or throws)
  std::filesystem::create_directories(dir / "folder.json");
  try {
    read_json_file(dir / "folder.json");
    FAIL("a folder read as JSON");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Contains("folder.json") && Catch::Contains("is a folder"));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a text file is read whole, and an empty one is an input error saying so", "[unit][errors]") {
  const auto dir = std::filesystem::temp_directory_path() / "rung_text_file_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "pw.in") << "&control\n/\n";
  std::ofstream(dir / "empty.in").flush();
  CHECK(read_text_file(dir / "pw.in") == "&control\n/\n");
  try {
    read_text_file(dir / "empty.in");
    FAIL("an empty file read");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK(std::string(e.what()) == (dir / "empty.in").string() + ": is empty");
  }
  CHECK_THROWS_WITH(read_json_file(dir / "empty.in"), Catch::Contains("empty.in: is empty"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("atomic output leaves nothing behind unless committed", "[unit][errors]") {
  auto dir = std::filesystem::temp_directory_path() / "rung_atomic_test";
  std::filesystem::create_directories(dir);
  auto target = dir / "out.txt";
  std::filesystem::remove(target);
  {
    AtomicOutput out(target);
    std::ofstream(out.temp_path()) << "partial";
    CHECK(std::filesystem::exists(out.temp_path()));
  }  // not committed: removed
  CHECK_FALSE(std::filesystem::exists(target));
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator{}) == 0);
  write_text_atomically(target, "done");
  std::ifstream in(target);
  std::string s;
  in >> s;
  CHECK(s == "done");
  std::filesystem::remove_all(dir);
}

TEST_CASE("an output path is checked up front as AtomicOutput checks it", "[unit][errors]") {
  const auto dir = std::filesystem::temp_directory_path() / "rung_output_path_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "a folder");
  const auto usage_error_naming = [](const std::filesystem::path& p, const std::string& what) {
    try {
      check_output_path(p);
      FAIL("no error for " + p.string());
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      CHECK_THAT(e.what(), Catch::Contains(p.string()) && Catch::Contains(what));
    }
  };
  CHECK_NOTHROW(check_output_path(dir / "out.h5"));
  CHECK_NOTHROW(check_output_path("relative-name.json"));  // the working folder
  usage_error_naming(dir / "nodir" / "out.h5", "does not exist");
  usage_error_naming(dir / "a folder", "is a folder");
  // the constructor makes the same checks, and so leaves nothing behind either
  CHECK_THROWS_AS(AtomicOutput(dir / "nodir" / "out.h5"), Error);
  CHECK_THROWS_AS(write_text_atomically(dir / "a folder", "x"), Error);
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator{}) == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("block distribution covers every item once", "[unit][parallel]") {
  Comm c;  // serial unless launched under mpirun
  auto [b, e] = c.block(10);
  if (c.size() == 1) {
    CHECK(b == 0);
    CHECK(e == 10);
  }
  long long n = (long long)(e - b);
  c.sum(&n, 1);
  CHECK(n == 10);
}

TEST_CASE("a failure passed to rethrow_on_every_rank comes back as it was, and none throws nothing",
          "[unit][parallel]") {
  const Comm c = Comm::self();
  CHECK_NOTHROW(c.rethrow_on_every_rank(nullptr));
  try {
    c.rethrow_on_every_rank(std::make_exception_ptr(Error(ErrorKind::input, "x.dat: truncated")));
    FAIL("no throw");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK(std::string(e.what()) == "x.dat: truncated");
  }
  // (several ranks: tests/response/solver.cmake, solver:mpi_one_rank_fails_all_raise)
}

namespace {
std::atomic<int> g_checks{0};
bool stop_on_third_check() { return ++g_checks >= 3; }
}  // namespace

TEST_CASE("a host's interrupt check stops an interruptible loop, on its own thread only", "[unit][errors]") {
  CHECK(interrupt_check() == nullptr);  // no scope: nothing is asked
  CHECK_FALSE(interrupt_requested());
  InterruptScope scope(&stop_on_third_check);
  CHECK(interrupt_check() == &stop_on_third_check);
  g_checks = 0;
  {
    Progress quiet("not interruptible", 10, false);  // the default: never asks
    for (int i = 0; i < 10; ++i) quiet.advance();
    CHECK(g_checks == 0);
  }
  {
    Progress other("asked from another thread", 10, false, true);
    std::thread([&] {
      for (int i = 0; i < 10; ++i) other.advance();  // not the constructing thread: never asks
      CHECK(interrupt_check() == nullptr);           // and the scope is this thread's, not the process's
    }).join();
    CHECK(g_checks == 0);
  }
  // Asked at the first step, then at most every 0.1 s: the third answer (true) comes at the third step here.
  Progress loop("interruptible", 10, false, true);
  int steps = 0;
  try {
    for (; steps < 10; ++steps) {
      loop.advance();
      if (steps < 2) std::this_thread::sleep_for(std::chrono::milliseconds(110));
    }
    FAIL("not interrupted");
  } catch (const Interrupted& e) {
    CHECK(std::string(e.what()) == "interrupted");
    CHECK(e.kind() == ErrorKind::runtime);
  }
  CHECK(steps == 2);  // the third advance() raised
  CHECK(g_checks == 3);
  // Between two checks less than 0.1 s apart it is not asked again.
  g_checks = 0;
  {
    InterruptScope inner([] { return ++g_checks > 1000; });
    Progress fast("fast steps", 1000, false, true);
    for (int i = 0; i < 1000; ++i) fast.advance();
    CHECK(g_checks >= 1);
    CHECK(g_checks < 50);  // 1000 steps in far less than 5 s
  }
  CHECK(interrupt_check() == &stop_on_third_check);  // the inner scope restored the outer one
  // stop_requested() (for OpenMP loops, which may not raise): asks on the constructing thread only; the yes is kept,
  // and then seen by every thread
  g_checks = 0;
  Progress omp_like("threads", 10, false, true);
  bool other_before = true, other_after = false;
  std::thread([&] { other_before = omp_like.stop_requested(); }).join();
  CHECK_FALSE(other_before);
  CHECK(g_checks == 0);
  CHECK_FALSE(omp_like.stop_requested());  // the first answer ("no")
  std::this_thread::sleep_for(std::chrono::milliseconds(110));
  CHECK_FALSE(omp_like.stop_requested());  // the second
  CHECK(g_checks == 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(110));
  CHECK(omp_like.stop_requested());  // the third: yes
  std::thread([&] { other_after = omp_like.stop_requested(); }).join();
  CHECK(other_after);
  CHECK(omp_like.stop_requested());  // kept without asking again
  CHECK(g_checks == 3);
  CHECK_THROWS_AS(omp_like.advance(), Interrupted);
}

namespace {
std::atomic<bool> g_stop_child{false};
std::filesystem::path g_pid_file;  // "stop" only once the command has written it: the process tree exists then
bool stop_child() {
  if (!g_stop_child.load()) return false;
  std::ifstream in(g_pid_file);
  pid_t p = 0;
  return bool(in >> p) && p > 0;
}
// Running (not gone, not a zombie waiting for a parent that never reaps it, as in a container without an init).
bool process_alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_text, comm, state;
  if (!(stat >> pid_text >> comm >> state)) return false;
  return state != "Z" && state != "X";
}
}  // namespace

TEST_CASE("a child command: waited for without a scope, stopped with its own children under one",
          "[unit][errors][interrupt]") {
  // Without a scope: the exit status as a shell reports it.
  CHECK(run_shell("exit 3").exit_code == 3);
  const auto killed = run_shell("kill -TERM $$");
  CHECK(killed.signal == SIGTERM);
  CHECK(killed.exit_code == 128 + SIGTERM);
  // Under a scope that says "stop" after 0.3 s: the shell and the sleep it started in the background (a YAMBO run's
  // mpirun and its ranks) are stopped within a few tenths of a second by SIGTERM, not after the 30 s the command
  // would take, and the wait ends with Interrupted.
  const auto dir = std::filesystem::temp_directory_path() / "rung_run_shell_test";
  std::filesystem::create_directories(dir);
  const auto pid_file = dir / "sleep.pid";
  std::filesystem::remove(pid_file);
  g_pid_file = pid_file;
  g_stop_child = false;
  InterruptScope scope(&stop_child);
  std::thread later([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    g_stop_child = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(run_shell("sleep 30 & echo $! > '" + pid_file.string() + "'; wait"), Interrupted);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  later.join();
  CHECK(waited >= 0.25);
  CHECK(waited < 1.8);  // SIGTERM ends sh and sleep at once; the SIGKILL fallback would come only at 2 s
  pid_t grandchild = 0;
  std::ifstream(pid_file) >> grandchild;
  REQUIRE(grandchild > 0);
  for (int i = 0; i < 50 && process_alive(grandchild); ++i)  // a signal takes a moment to be delivered
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(process_alive(grandchild));
  // A command that ends before anyone asks to stop is not interrupted.
  g_stop_child = false;
  CHECK(run_shell("exit 0").exit_code == 0);
  std::filesystem::remove_all(dir);
}
