#pragma once

#include <cstdint>

namespace pumppilot {

// A safety input read through an asymmetric debounce: a change towards unsafe counts at
// once, a change back to safe only once it has been seen safe, without a gap, for
// `settleMs`. A flapping input therefore reads unsafe, and so does every input at boot
// until it has settled. A gap longer than `maxGapMs` between readings (a stall, or the
// clock jumping either way) counts as unsafe too: safe must be observed, not assumed.
class SafetyInput {
 public:
  SafetyInput(uint32_t settleMs, uint32_t maxGapMs) : settleMs_(settleMs), maxGapMs_(maxGapMs) {}

  void update(bool unsafeNow, uint32_t nowMs) {
    bool backwards = static_cast<int32_t>(nowMs - lastRead_) < 0;
    bool gap = read_ && (backwards || nowMs - lastRead_ > maxGapMs_);
    read_ = true;
    lastRead_ = nowMs;

    if (unsafeNow || gap) {
      unsafe_ = true;
      safeStreak_ = false;
    }
    if (unsafeNow) return;

    if (!safeStreak_) {
      safeStreak_ = true;
      safeSince_ = nowMs;
    }
    if (nowMs - safeSince_ >= settleMs_) unsafe_ = false;
  }

  bool unsafe() const { return unsafe_; }

 private:
  uint32_t settleMs_;
  uint32_t maxGapMs_;
  uint32_t lastRead_ = 0;
  uint32_t safeSince_ = 0;
  bool read_ = false;
  bool safeStreak_ = false;
  bool unsafe_ = true;
};

}  // namespace pumppilot
