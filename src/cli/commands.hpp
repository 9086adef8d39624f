#pragma once
// Each `rung <command>` lives in its own cmd_<name>.cpp and registers itself with a static
// CommandRegistrar, so adding a command never touches main.cpp.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace rung::cli {

// What a parsed subcommand runs; returns the process exit code.
using Action = std::function<int()>;

struct Context {
  bool quiet = false;  // --quiet: no progress on stderr
};

// The command line rung was started with (set by main before parsing; the program named "rung", not by its path),
// and what every output file written by a command records of its making: {"rung_version", "created", "command"}.
const std::vector<std::string>& command_line();
void set_command_line(int argc, char** argv);
nlohmann::json output_provenance();

// Adds the subcommand to `app`; when it is chosen, it stores its action in `action`.
using Setup = void (*)(CLI::App& app, Action& action, const Context& ctx);

std::vector<Setup>& registry();

struct CommandRegistrar {
  explicit CommandRegistrar(Setup s) { registry().push_back(s); }
};

// The action of `rung <command>` in a build without LibTorch: fails with one message naming it.
Action built_without_torch(const std::string& command);

// The action of a command that needs the OPTIMATE network, e.g. RUNG_TORCH_ACTION("predict", run_predict(*o)):
// with LibTorch, a lambda (capturing by copy) returning the expression; without it, built_without_torch
// and the expression is not compiled (the functions it calls exist only in LibTorch builds).
#ifdef RUNG_HAVE_TORCH
#define RUNG_TORCH_ACTION(command, ...) ::rung::cli::Action([=]() -> int { return __VA_ARGS__; })
#else
#define RUNG_TORCH_ACTION(command, ...) ::rung::cli::built_without_torch(command)
#endif

}  // namespace rung::cli
