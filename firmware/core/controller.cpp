#include "controller.h"

#include <algorithm>
#include <cstdio>

#include "version.h"

namespace pumppilot {
namespace {

constexpr uint32_t kMsPerSecond = 1000;
// After this many answers in a row older than the newest seen, the server's counter is
// taken to have restarted (a restored database) and the newer baseline is accepted.
constexpr uint32_t kStaleAnswersBeforeRebase = 3;

bool due(uint32_t nowMs, uint32_t atMs) { return static_cast<int32_t>(nowMs - atMs) >= 0; }

std::string urlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", c);
      out += escaped;
    }
  }
  return out;
}

}  // namespace

Controller::Controller(Hal& hal, Config config, Timing timing)
    : hal_(hal),
      config_(std::move(config)),
      timing_(timing),
      shedding_(timing.settleMs, timing.maxInputGapMs),
      notReady_(timing.settleMs, timing.maxInputGapMs) {}

void Controller::begin() {
  setRelay(false);
  nextPollAt_ = hal_.millis();
}

void Controller::step() {
  uint32_t now = hal_.millis();
  shedding_.update(hal_.loadSheddingRaw(), now);
  notReady_.update(!hal_.deviceReadyRaw(), now);
  setRelay(motorAllowed(now));
}

void Controller::pollIfDue() {
  uint32_t now = hal_.millis();
  if (due(now, nextPollAt_)) poll(now);
}

void Controller::tick() {
  step();
  pollIfDue();
  step();
  hal_.feedWatchdog();
}

void Controller::pollSoon() { nextPollAt_ = hal_.millis(); }

bool Controller::motorAllowed(uint32_t nowMs) const {
  if (!haveAnswer_ || !answer_.motorOn) return false;
  // A clock that went backwards gives a negative age: no answer can be trusted then.
  int32_t age = static_cast<int32_t>(nowMs - answerSentAt_);
  if (age < 0 || static_cast<int64_t>(age) >= answer_.leaseSeconds * kMsPerSecond) return false;
  return !shedding_.unsafe() && !notReady_.unsafe();
}

std::string Controller::pollUrl() const {
  uint32_t uptime = hal_.millis() / kMsPerSecond;
  return baseUrl(config_) + "/api/esp32/poll?adminId=" + urlEncode(config_.adminId) +
         "&deviceId=" + urlEncode(config_.deviceId) +
         "&loadShedding=" + (shedding_.unsafe() ? "1" : "0") +
         "&ready=" + (notReady_.unsafe() ? "0" : "1") + "&output=" + (relay_ ? "1" : "0") +
         "&fw=" + urlEncode(kFirmwareVersion) + "&uptime=" + std::to_string(uptime);
}

void Controller::poll(uint32_t nowMs) {
  HttpResponse response = hal_.get(pollUrl(), config_.deviceKey, timing_.httpTimeoutMs);
  AnswerReading reading = readPollAnswer(response, config_.adminId);
  lastErrorCode_ = reading.errorCode;

  if (reading.fault == AnswerFault::None && reading.answer.seq < highestSeq_ &&
      ++staleAnswers_ < kStaleAnswersBeforeRebase) {
    reading.fault = AnswerFault::StaleSeq;
  }
  if (reading.fault != AnswerFault::None) {
    fail(reading.fault, hal_.millis());
    return;
  }
  accept(reading.answer, nowMs);
}

void Controller::accept(const PollAnswer& answer, uint32_t sentAtMs) {
  haveAnswer_ = true;
  answer_ = answer;
  // The lease runs from when the request left: the answer can be no older than that.
  answerSentAt_ = sentAtMs;
  if (answer.seq >= highestSeq_ || staleAnswers_ >= kStaleAnswersBeforeRebase)
    highestSeq_ = answer.seq;
  staleAnswers_ = 0;
  failures_ = 0;
  lastFault_ = AnswerFault::None;

  uint32_t interval = static_cast<uint32_t>(answer.pollSeconds) * kMsPerSecond;
  // Up to a tenth of jitter, so boards that lost power together do not poll together.
  nextPollAt_ = sentAtMs + interval - interval / 20 + hal_.random(interval / 10 + 1);
  setRelay(motorAllowed(hal_.millis()));
}

void Controller::fail(AnswerFault fault, uint32_t nowMs) {
  // Any failure switches the motor off at once: a board that cannot hear the server
  // must not keep a pump running on an old answer.
  haveAnswer_ = false;
  lastFault_ = fault;
  failures_ = std::min<uint32_t>(failures_ + 1, 30);
  setRelay(false);

  uint32_t backoff = timing_.firstRetryMs;
  for (uint32_t i = 1; i < failures_ && backoff < timing_.maxBackoffMs; ++i) backoff *= 2;
  backoff = std::min(backoff, timing_.maxBackoffMs);
  nextPollAt_ = nowMs + backoff + hal_.random(backoff / 4 + 1);
}

void Controller::setRelay(bool on) {
  relay_ = on;
  hal_.setRelay(on);
}

}  // namespace pumppilot
