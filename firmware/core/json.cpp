#include "json.h"

#include <cstdio>

namespace pumppilot {
namespace {

constexpr int kMaxDepth = 2;
constexpr int64_t kMaxMagnitude = 999999999999LL;

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  bool object(JsonObject& out, int depth) {
    skipSpace();
    if (!take('{') || depth > kMaxDepth) return false;
    skipSpace();
    if (take('}')) return true;
    while (true) {
      std::string key;
      skipSpace();
      if (!string(key)) return false;
      skipSpace();
      if (!take(':')) return false;
      JsonValue value;
      if (!this->value(value, depth)) return false;
      // A repeated key could be read two ways; refuse rather than guess.
      if (!out.emplace(key, std::move(value)).second) return false;
      skipSpace();
      if (take('}')) return true;
      if (!take(',')) return false;
    }
  }

  bool atEnd() {
    skipSpace();
    return pos_ == text_.size();
  }

 private:
  bool value(JsonValue& out, int depth) {
    skipSpace();
    if (pos_ >= text_.size()) return false;
    char c = text_[pos_];
    if (c == '"') {
      out.kind = JsonValue::Kind::String;
      return string(out.text);
    }
    if (c == '{') {
      out.kind = JsonValue::Kind::Object;
      return object(out.members, depth + 1);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      out.kind = JsonValue::Kind::Number;
      return number(out.number);
    }
    if (word("true")) {
      out.kind = JsonValue::Kind::Bool;
      out.boolean = true;
      return true;
    }
    if (word("false")) {
      out.kind = JsonValue::Kind::Bool;
      return true;
    }
    if (word("null")) {
      out.kind = JsonValue::Kind::Null;
      return true;
    }
    return false;
  }

  bool string(std::string& out) {
    if (!take('"')) return false;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) return false;
      char escaped = text_[pos_++];
      switch (escaped) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u':
          // Kept only as a marker: the fields the board acts on are plain ASCII.
          if (!hexDigits(4)) return false;
          out.push_back('?');
          break;
        default:
          return false;
      }
    }
    return false;  // the closing quote never came
  }

  bool number(int64_t& out) {
    bool negative = take('-');
    std::size_t start = pos_;
    int64_t magnitude = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      magnitude = magnitude * 10 + (text_[pos_] - '0');
      if (magnitude > kMaxMagnitude) return false;
      ++pos_;
    }
    std::size_t digits = pos_ - start;
    if (digits == 0 || (digits > 1 && text_[start] == '0')) return false;
    // Fractions and exponents never come from the server; refuse them.
    if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E'))
      return false;
    out = negative ? -magnitude : magnitude;
    return true;
  }

  bool hexDigits(int count) {
    for (int i = 0; i < count; ++i) {
      if (pos_ >= text_.size()) return false;
      char c = text_[pos_++];
      bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex) return false;
    }
    return true;
  }

  bool word(const char* expected) {
    std::size_t length = std::char_traits<char>::length(expected);
    if (text_.compare(pos_, length, expected) != 0) return false;
    pos_ += length;
    return true;
  }

  bool take(char expected) {
    if (pos_ < text_.size() && text_[pos_] == expected) {
      ++pos_;
      return true;
    }
    return false;
  }

  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t'))
      ++pos_;
  }

  const std::string& text_;
  std::size_t pos_ = 0;
};

}  // namespace

bool parseJsonObject(const std::string& text, JsonObject& out) {
  out.clear();
  if (text.size() > kMaxJsonBytes) return false;
  Parser parser(text);
  JsonObject parsed;
  if (!parser.object(parsed, 1) || !parser.atEnd()) return false;
  out = std::move(parsed);
  return true;
}

std::string jsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace pumppilot
