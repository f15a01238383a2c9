#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace pumppilot {

struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  int64_t number = 0;
  std::string text;
  // For an object value, its members; only one level deep is kept.
  std::map<std::string, JsonValue> members;
};

using JsonObject = std::map<std::string, JsonValue>;

// Parses one JSON object whose values are null, booleans, integers, strings or objects of
// those. Returns false on anything else: malformed or truncated text, fractions, arrays,
// duplicate keys, nesting deeper than two objects, or more than kMaxJsonBytes. A board
// must never act on a half-read answer, so there is no partial success.
constexpr std::size_t kMaxJsonBytes = 1024;
bool parseJsonObject(const std::string& text, JsonObject& out);

// The text as a JSON string literal, quotes included.
std::string jsonString(const std::string& text);

}  // namespace pumppilot
