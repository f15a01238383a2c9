#include "scan.h"

#include <cstdio>

#include "json.h"

namespace pumppilot {
namespace {

constexpr int kOk = 200;
constexpr std::size_t kMaxUidBytes = 10;  // MFRC522 UIDs are 4, 7 or 10 bytes

std::string member(const JsonObject& object, const char* name) {
  auto found = object.find(name);
  return found != object.end() && found->second.kind == JsonValue::Kind::String ? found->second.text
                                                                                : "";
}

}  // namespace

ScanFlow::ScanFlow(Hal& hal, Config config, uint32_t repeatMs, uint32_t timeoutMs)
    : hal_(hal), config_(std::move(config)), repeatMs_(repeatMs), timeoutMs_(timeoutMs) {}

std::string ScanFlow::cardId(const uint8_t* uid, std::size_t length) {
  std::string id;
  for (std::size_t i = 0; i < length && i < kMaxUidBytes; ++i) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02X", uid[i]);
    id += hex;
  }
  return id;
}

bool ScanFlow::onCard(const uint8_t* uid, std::size_t length, ScanOutcome& outcome) {
  outcome = ScanOutcome();
  std::string card = cardId(uid, length);
  if (card.empty()) return false;

  uint32_t now = hal_.millis();
  if (card == lastCard_ && now - lastAt_ < repeatMs_) return false;
  lastCard_ = card;
  lastAt_ = now;

  std::string body = "{\"adminId\":" + jsonString(config_.adminId) +
                     ",\"deviceId\":" + jsonString(config_.deviceId) +
                     ",\"cardId\":" + jsonString(card) + "}";
  HttpResponse response =
      hal_.post(baseUrl(config_) + "/api/esp32/scan", config_.deviceKey, body, timeoutMs_);
  if (!response.delivered) return true;

  JsonObject object;
  if (!parseJsonObject(response.body, object)) return true;
  if (response.status != kOk) {
    auto error = object.find("error");
    if (error != object.end() && error->second.kind == JsonValue::Kind::Object)
      outcome.errorCode = member(error->second.members, "code");
    return true;
  }
  outcome.action = member(object, "action");
  outcome.state = member(object, "state");
  outcome.accepted = !outcome.action.empty() && !outcome.state.empty();
  return true;
}

}  // namespace pumppilot
