#pragma once

#include <cstdint>
#include <string>

#include "answer.h"
#include "config.h"
#include "hal.h"
#include "inputs.h"

namespace pumppilot {

struct Timing {
  uint32_t httpTimeoutMs = 3000;
  // A safety input must read safe this long before the motor may start again.
  uint32_t settleMs = 2000;
  // Readings further apart than this (a stall, a clock jump) count as unsafe.
  uint32_t maxInputGapMs = 10000;
  uint32_t firstRetryMs = 1000;
  uint32_t maxBackoffMs = 60000;
};

// Decides the relay. It is ON only while all of these hold:
//   - the last poll answer was a valid 200 for this tenant saying motor ON (RUNNING),
//   - that answer is younger than its lease, counted from when its request was sent,
//   - the load-shedding and ready inputs have read safe, continuously, for settleMs.
// Everything else, including boot, any error and any doubt, means OFF.
class Controller {
 public:
  Controller(Hal& hal, Config config, Timing timing = Timing());

  // Switches the relay OFF and schedules the first poll at once. Call once at boot.
  void begin();
  // Reads the inputs and sets the relay; no network. Call as often as possible.
  void step();
  // Polls the server if a poll is due; blocks for at most the HTTP timeout.
  void pollIfDue();
  // Both, then feeds the watchdog: one pass of the board's loop.
  void tick();
  // Poll at the next chance (after an RFID scan, say).
  void pollSoon();

  bool relayOn() const { return relay_; }
  AnswerFault lastFault() const { return lastFault_; }
  const std::string& lastErrorCode() const { return lastErrorCode_; }
  uint32_t consecutiveFailures() const { return failures_; }
  std::string pollUrl() const;

 private:
  bool motorAllowed(uint32_t nowMs) const;
  void poll(uint32_t nowMs);
  void accept(const PollAnswer& answer, uint32_t sentAtMs);
  void fail(AnswerFault fault, uint32_t nowMs);
  void setRelay(bool on);

  Hal& hal_;
  Config config_;
  Timing timing_;
  SafetyInput shedding_;
  SafetyInput notReady_;

  bool haveAnswer_ = false;
  PollAnswer answer_;
  uint32_t answerSentAt_ = 0;
  int64_t highestSeq_ = -1;
  uint32_t staleAnswers_ = 0;

  uint32_t nextPollAt_ = 0;
  uint32_t failures_ = 0;
  AnswerFault lastFault_ = AnswerFault::NoAnswer;
  std::string lastErrorCode_;
  bool relay_ = false;
};

}  // namespace pumppilot
