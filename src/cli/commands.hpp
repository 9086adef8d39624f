#pragma once
// Each `rung <command>` lives in its own cmd_<name>.cpp and registers itself with a static
// CommandRegistrar, so adding a command never touches main.cpp.
#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace rung::cli {

// What a parsed subcommand runs; returns the process exit code.
using Action = std::function<int()>;

struct Context {
  bool quiet = false;  // --quiet: no progress on stderr
};

// Adds the subcommand to `app`; when it is chosen, it stores its action in `action`.
using Setup = void (*)(CLI::App& app, Action& action, const Context& ctx);

std::vector<Setup>& registry();

struct CommandRegistrar {
  explicit CommandRegistrar(Setup s) { registry().push_back(s); }
};

}  // namespace rung::cli
