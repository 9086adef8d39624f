#pragma once
// JSON for the typed requests (response::SpectrumRequest, select::SelectRequest): a request lists its
// fields once in a static `visit(request, f)` calling f(key, flag, help, field); these templates read,
// write and enumerate the fields through that list, so every front door shares one vocabulary. An unknown
// key or a value of the wrong type is a usage error naming the key.
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <climits>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.hpp"

namespace rung::request_json {

[[noreturn]] inline void wrong_type(const char* key, const char* want, const nlohmann::json& v) {
  fail_usage(fmt::format("option \"{}\" must be {}, not {}", key, want, v.dump()));
}

inline void read(const char* key, const nlohmann::json& v, std::string& out) {
  if (v.is_string()) out = v.get<std::string>();
  else if (v.is_number_integer()) out = std::to_string(v.get<long long>());  // e.g. a G block given as a count
  else if (v.is_array() && v.size() == 2 && v[0].is_number_integer() && v[1].is_number_integer())
    out = fmt::format("{}:{}", v[0].get<long long>(), v[1].get<long long>());  // a range [first, last]
  else wrong_type(key, "a string", v);
}
inline void read(const char* key, const nlohmann::json& v, double& out) {
  if (!v.is_number()) wrong_type(key, "a number", v);
  out = v.get<double>();
}
inline void read(const char* key, const nlohmann::json& v, std::size_t& out) {
  if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<long long>() < 0))
    wrong_type(key, "a non-negative integer", v);
  out = v.get<std::size_t>();
}
inline void read(const char* key, const nlohmann::json& v, int& out) {
  // (get<int> of 4294967297 is 1: a value outside an int's range is refused, not wrapped)
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<unsigned long long>() > unsigned(INT_MAX)) ||
      (!v.is_number_unsigned() && (v.get<long long>() < INT_MIN || v.get<long long>() > INT_MAX)))
    wrong_type(key, "an integer of an int's range", v);
  out = v.get<int>();
}
inline void read(const char* key, const nlohmann::json& v, std::filesystem::path& out) {
  if (!v.is_string()) wrong_type(key, "a path (string)", v);
  out = v.get<std::string>();
}
inline void read(const char* key, const nlohmann::json& v, bool& out) {
  if (!v.is_boolean()) wrong_type(key, "true or false", v);
  out = v.get<bool>();
}
template <class T>
void read(const char* key, const nlohmann::json& v, std::optional<T>& out) {
  T x{};
  read(key, v, x);
  out = x;
}
inline void read(const char* key, const nlohmann::json& v, std::vector<std::string>& out) {
  out.clear();
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return;
  }
  if (!v.is_array()) wrong_type(key, "a list of strings", v);
  if (v.size() == 3 && v[0].is_number() && v[1].is_number() && v[2].is_number()) {  // one vector [a, b, c]
    out.push_back(fmt::format("{},{},{}", v[0].get<double>(), v[1].get<double>(), v[2].get<double>()));
    return;
  }
  for (const auto& e : v) {
    if (!e.is_string()) wrong_type(key, "a list of strings", v);
    out.push_back(e.get<std::string>());
  }
}

template <class R>
void merge_json(const nlohmann::json& options, const char* what, R& r);

// A request inside a request (the factory's solver options): a JSON object over its own keys, applied on top of
// the outer request's defaults for it (the factory's solver defaults are not the solver's own).
template <class R>
  requires requires(const nlohmann::json& j) { R::from_json(j); }
void read(const char* key, const nlohmann::json& v, R& out) {
  if (!v.is_object()) wrong_type(key, "a JSON object", v);
  merge_json(v, key, out);
}

template <class R>
std::vector<std::string> keys() {
  std::vector<std::string> k;
  R r;
  R::visit(r, [&](const char* key, const char*, const char*, auto&) { k.push_back(key); });
  return k;
}

// The keys `options` holds, applied to `r` (the others keep their values). `what` names the request in the error
// ("spectrum", "select").
template <class R>
void merge_json(const nlohmann::json& options, const char* what, R& r) {
  if (options.is_null()) return;
  if (!options.is_object()) fail_usage(fmt::format("{} options must be a JSON object, not {}", what, options.dump()));
  std::set<std::string> known;
  R::visit(r, [&](const char* key, const char*, const char*, auto& field) {
    known.insert(key);
    if (options.contains(key)) read(key, options.at(key), field);
  });
  for (const auto& [k, v] : options.items())
    if (!known.count(k))
      fail_usage(fmt::format("unknown {} option \"{}\" (known: {})", what, k, fmt::join(keys<R>(), ", ")));
}

// A request from its defaults and the keys `options` holds.
template <class R>
R from_json(const nlohmann::json& options, const char* what) {
  R r;
  merge_json(options, what, r);
  return r;
}

template <class R>
nlohmann::json to_json(const R& r) {
  nlohmann::json j = nlohmann::json::object();
  R::visit(r, [&](const char* key, const char*, const char*, const auto& field) {
    using T = std::decay_t<decltype(field)>;
    if constexpr (std::is_same_v<T, std::optional<bool>> || std::is_same_v<T, std::optional<double>>) {
      if (field) j[key] = *field;
    } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
      j[key] = field.string();
    } else if constexpr (requires { field.to_json(); }) {
      j[key] = field.to_json();
    } else {
      j[key] = field;
    }
  });
  return j;
}

}  // namespace rung::request_json
