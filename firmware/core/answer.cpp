#include "answer.h"

#include "json.h"

namespace pumppilot {
namespace {

constexpr int kOk = 200;
constexpr int64_t kMaxLeaseSeconds = 900;
constexpr int64_t kMaxPollSeconds = 300;

bool text(const JsonObject& object, const char* name, std::string& out) {
  auto found = object.find(name);
  if (found == object.end() || found->second.kind != JsonValue::Kind::String) return false;
  out = found->second.text;
  return true;
}

bool integer(const JsonObject& object, const char* name, int64_t& out) {
  auto found = object.find(name);
  if (found == object.end() || found->second.kind != JsonValue::Kind::Number) return false;
  out = found->second.number;
  return true;
}

bool textOrNull(const JsonObject& object, const char* name, std::string& out) {
  auto found = object.find(name);
  if (found == object.end()) return false;
  if (found->second.kind == JsonValue::Kind::Null) {
    out.clear();
    return true;
  }
  return text(object, name, out);
}

std::string errorCode(const JsonObject& object) {
  auto error = object.find("error");
  if (error == object.end() || error->second.kind != JsonValue::Kind::Object) return "";
  auto code = error->second.members.find("code");
  if (code == error->second.members.end() || code->second.kind != JsonValue::Kind::String)
    return "";
  return code->second.text;
}

AnswerReading fault(AnswerFault kind, std::string code = "") {
  AnswerReading reading;
  reading.fault = kind;
  reading.errorCode = std::move(code);
  return reading;
}

}  // namespace

AnswerReading readPollAnswer(const HttpResponse& response, const std::string& adminId) {
  if (!response.delivered) return fault(AnswerFault::NoAnswer);

  JsonObject object;
  bool parsed = parseJsonObject(response.body, object);
  if (response.status != kOk)
    return fault(AnswerFault::HttpStatus, parsed ? errorCode(object) : "");
  if (!parsed) return fault(AnswerFault::Malformed);

  AnswerReading reading;
  PollAnswer& answer = reading.answer;
  std::string motor;
  std::string tenant;
  bool complete =
      text(object, "adminId", tenant) && text(object, "motor", motor) &&
      text(object, "state", answer.state) && textOrNull(object, "holdReason", answer.holdReason) &&
      integer(object, "remainingSeconds", answer.remainingSeconds) &&
      integer(object, "leaseSeconds", answer.leaseSeconds) &&
      integer(object, "pollSeconds", answer.pollSeconds) && integer(object, "seq", answer.seq) &&
      integer(object, "serverTime", answer.serverTime);
  if (!complete || (motor != "ON" && motor != "OFF")) return fault(AnswerFault::Malformed);
  if (tenant != adminId) return fault(AnswerFault::WrongTenant);

  answer.motorOn = motor == "ON";
  bool knownState = answer.state == "IDLE" || answer.state == "RUNNING" || answer.state == "HOLD";
  bool sane = knownState && answer.leaseSeconds >= 1 && answer.leaseSeconds <= kMaxLeaseSeconds &&
              answer.pollSeconds >= 1 && answer.pollSeconds <= kMaxPollSeconds &&
              answer.remainingSeconds >= 0 && answer.seq >= 0;
  if (!sane || (answer.motorOn && answer.state != "RUNNING"))
    return fault(AnswerFault::Inconsistent);
  return reading;
}

const char* faultName(AnswerFault fault) {
  switch (fault) {
    case AnswerFault::None:
      return "none";
    case AnswerFault::NoAnswer:
      return "no answer";
    case AnswerFault::HttpStatus:
      return "http status";
    case AnswerFault::Malformed:
      return "malformed";
    case AnswerFault::WrongTenant:
      return "wrong tenant";
    case AnswerFault::Inconsistent:
      return "inconsistent";
    case AnswerFault::StaleSeq:
      return "stale seq";
  }
  return "unknown";
}

}  // namespace pumppilot
