#pragma once
// The time stamp every rung output carries in its provenance ("created").
#include <string>

namespace rung {
// Current UTC time as ISO 8601, e.g. "2026-11-23T08:40:00Z".
std::string utc_now_iso8601();
}  // namespace rung
