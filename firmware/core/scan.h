#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "config.h"
#include "hal.h"

namespace pumppilot {

struct ScanOutcome {
  bool accepted = false;
  std::string action;     // STARTED, QUEUED, STOPPED or LEFT_QUEUE when accepted
  std::string state;      // the run's state after the scan
  std::string errorCode;  // the server's code when refused; empty when nothing came back
};

// The RFID flow: a card held to the MFRC522 reader is sent to POST /api/esp32/scan, which
// starts, queues or stops its holder's run. The relay still follows the poll alone; the
// caller polls soon after a scan so the change shows at once.
class ScanFlow {
 public:
  ScanFlow(Hal& hal, Config config, uint32_t repeatMs = 3000, uint32_t timeoutMs = 3000);

  // A card's UID as the reader gives it. Returns false, sending nothing, for the same card
  // again within `repeatMs` (a card left on the reader is one scan, not many).
  bool onCard(const uint8_t* uid, std::size_t length, ScanOutcome& outcome);

  static std::string cardId(const uint8_t* uid, std::size_t length);

 private:
  Hal& hal_;
  Config config_;
  uint32_t repeatMs_;
  uint32_t timeoutMs_;
  std::string lastCard_;
  uint32_t lastAt_ = 0;
};

}  // namespace pumppilot
