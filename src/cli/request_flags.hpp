#pragma once
// One binding of a typed request's fields to command-line flags. Each request (SpectrumRequest, PredictRequest,
// SelectRequest, FactoryRequest) lists its fields once in `visit(request, f)` as (canonical key, flag, help, field);
// every command binds them here, so a flag's help names its key and the types bind the same way everywhere:
//   bool                      -> a flag without a value
//   std::optional<double>     -> an option that sets the value only when given
//   std::vector<std::string>  -> an option taking several values, also as one comma-separated list
//   std::filesystem::path     -> an option (no default shown)
//   numbers, strings          -> an option with its default shown in the help
// A command handles other field types (or binds one of these differently) with `special`: an overload set of
// callables `void(CLI::App*, const char* flag, const std::string& help, Field&)`; the overload that accepts a
// field's type is called instead of the rule above, and the field is bound by it (or left out) as it decides.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>
#include <fmt/format.h>

namespace rung::cli {

// The overload set of `special` from several lambdas: RequestFlags{[](..., Tier&) {...}, [](..., bool&) {...}}.
template <class... F>
struct Overloads : F... {
  using F::operator()...;
};
template <class... F>
Overloads(F...) -> Overloads<F...>;

// No special field types: every field follows the rules above.
struct NoSpecialFields {};

// Binds every field of `request` that has a flag (and, with `only`, whose key `only` names) to `cmd`.
template <class Request, class Special = NoSpecialFields>
void bind_request_flags(CLI::App* cmd, Request& request, Special&& special = {},
                        const std::set<std::string>* only = nullptr) {
  Request::visit(request, [&](const char* key, const char* flag, const char* help, auto& field) {
    if (*flag == 0 || (only && !only->count(key))) return;
    using T = std::decay_t<decltype(field)>;
    const std::string text = fmt::format("{} [key {}]", help, key);
    if constexpr (std::is_invocable_v<Special&, CLI::App*, const char*, const std::string&, T&>) {
      special(cmd, flag, text, field);
    } else if constexpr (std::is_same_v<T, bool>) {
      cmd->add_flag(flag, field, text);
    } else if constexpr (std::is_same_v<T, std::optional<double>>) {
      cmd->add_option_function<double>(
          flag, [&field](const double& v) { field = v; }, text);
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      cmd->add_option(flag, field, text)->delimiter(',');
    } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
      cmd->add_option(flag, field, text);
    } else {
      static_assert(std::is_arithmetic_v<T> || std::is_same_v<T, std::string>,
                    "bind_request_flags: this field type needs a `special` binding in its command");
      cmd->add_option(flag, field, text)->capture_default_str();
    }
  });
}

}  // namespace rung::cli
