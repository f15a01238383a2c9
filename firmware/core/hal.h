#pragma once

#include <cstdint>
#include <string>

namespace pumppilot {

// What came back from one HTTP request.
struct HttpResponse {
  // False when no answer arrived at all: no network, refused, timed out, cut short.
  bool delivered = false;
  int status = 0;
  std::string body;
};

// Everything the core needs from the board. The Arduino sketch implements it with GPIO,
// Wi-Fi and HTTPClient; the host build with libcurl and files; the tests with a fake.
class Hal {
 public:
  virtual ~Hal() = default;

  // Milliseconds since boot, monotonic; wraps after about 49 days.
  virtual uint32_t millis() = 0;
  // Raw levels, before any debouncing: true while the grid sheds load.
  virtual bool loadSheddingRaw() = 0;
  // True while the pump side says it is ready (water, pressure, whatever is wired).
  virtual bool deviceReadyRaw() = 0;
  virtual void setRelay(bool on) = 0;

  virtual HttpResponse get(const std::string& url, const std::string& bearer,
                           uint32_t timeoutMs) = 0;
  virtual HttpResponse post(const std::string& url, const std::string& bearer,
                            const std::string& json, uint32_t timeoutMs) = 0;

  // A number in [0, bound), for jitter; bound is at least 1.
  virtual uint32_t random(uint32_t bound) = 0;
  virtual void feedWatchdog() = 0;
};

}  // namespace pumppilot
