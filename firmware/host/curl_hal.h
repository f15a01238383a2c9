#pragma once

#include <curl/curl.h>

#include <chrono>
#include <random>
#include <string>

#include "../core/hal.h"

namespace pumppilot::host {

// The board's hardware on a Linux machine: libcurl for HTTP (one connection, kept alive
// between polls, as on the board), a file for the two inputs, and stdout for the relay.
class CurlHal : public Hal {
 public:
  explicit CurlHal(std::string inputsFile);
  ~CurlHal() override;
  CurlHal(const CurlHal&) = delete;
  CurlHal& operator=(const CurlHal&) = delete;

  uint32_t millis() override;
  bool loadSheddingRaw() override;
  bool deviceReadyRaw() override;
  void setRelay(bool on) override;
  HttpResponse get(const std::string& url, const std::string& bearer, uint32_t timeoutMs) override;
  HttpResponse post(const std::string& url, const std::string& bearer, const std::string& json,
                    uint32_t timeoutMs) override;
  uint32_t random(uint32_t bound) override;
  void feedWatchdog() override {}

 private:
  HttpResponse perform(const std::string& url, const std::string& bearer, const std::string* json,
                       uint32_t timeoutMs);
  void readInputs();

  std::string inputsFile_;
  CURL* curl_;
  std::chrono::steady_clock::time_point boot_ = std::chrono::steady_clock::now();
  std::mt19937 random_{std::random_device{}()};
  bool shedding_ = false;
  bool ready_ = true;
  int relay_ = -1;
};

}  // namespace pumppilot::host
