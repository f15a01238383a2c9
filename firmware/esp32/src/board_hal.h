#pragma once

#include <Arduino.h>

#include "hal.h"

namespace pumppilot {

// Pins, as in the seed's wiring table (../WIRING.md).
constexpr uint8_t kRelayPin = 25;         // relay module input
constexpr uint8_t kOptoPin = 5;           // optocoupler LED: transistor and relay coil
constexpr uint8_t kLoadSheddingPin = 32;  // HIGH = grid shedding load (or wire broken)
constexpr uint8_t kReadyPin = 33;         // LOW = pump side ready; HIGH = not (or wire broken)
constexpr uint8_t kRfidSsPin = 21;        // MFRC522 on VSPI (SCK 18, MISO 19, MOSI 23)
constexpr uint8_t kRfidResetPin = 22;

// Drives both outputs LOW before anything else runs; safe to call from an interrupt.
void IRAM_ATTR forceRelayOff();

// The board's hardware behind the core's Hal.
class BoardHal : public Hal {
 public:
  void begin();

  uint32_t millis() override;
  bool loadSheddingRaw() override;
  bool deviceReadyRaw() override;
  void setRelay(bool on) override;
  HttpResponse get(const std::string& url, const std::string& bearer, uint32_t timeoutMs) override;
  HttpResponse post(const std::string& url, const std::string& bearer, const std::string& json,
                    uint32_t timeoutMs) override;
  uint32_t random(uint32_t bound) override;
  void feedWatchdog() override;

 private:
  HttpResponse request(const std::string& url, const std::string& bearer, const std::string* json,
                       uint32_t timeoutMs);
};

}  // namespace pumppilot
