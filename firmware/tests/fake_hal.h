#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "../core/hal.h"

namespace pumppilot::testing {

constexpr const char* kTenant = "6a1f0c2e9b7d4a3c5e8f1b20";

// A poll answer body as the server sends it, with the fields a test wants changed.
inline std::string answerBody(const std::string& motor = "ON", const std::string& state = "RUNNING",
                              int lease = 15, int poll = 5, int seq = 42,
                              const std::string& tenant = kTenant) {
  return "{\"adminId\": \"" + tenant + "\", \"motor\": \"" + motor + "\", \"state\": \"" + state +
         "\", \"holdReason\": null, \"remainingSeconds\": 1740, \"leaseSeconds\": " +
         std::to_string(lease) + ", \"pollSeconds\": " + std::to_string(poll) +
         ", \"seq\": " + std::to_string(seq) + ", \"serverTime\": 1796302002}";
}

inline HttpResponse ok(const std::string& body) { return HttpResponse{true, 200, body}; }
inline HttpResponse status(int code, const std::string& body) {
  return HttpResponse{true, code, body};
}
inline HttpResponse nothing() { return HttpResponse{}; }

// A board on the bench: a clock the test moves, switches it flips, and a server that
// answers from a script (or from a function, for the randomized tests).
class FakeHal : public Hal {
 public:
  uint32_t now = 0;
  bool shedding = false;
  bool ready = true;
  bool relay = false;
  std::vector<bool> relayWrites;
  std::deque<HttpResponse> answers;
  std::function<HttpResponse()> server;
  std::vector<std::string> urls;
  std::vector<std::string> posts;
  uint32_t httpDelayMs = 20;
  int watchdogFeeds = 0;

  uint32_t millis() override { return now; }
  bool loadSheddingRaw() override { return shedding; }
  bool deviceReadyRaw() override { return ready; }
  void setRelay(bool on) override {
    relay = on;
    relayWrites.push_back(on);
  }
  HttpResponse get(const std::string& url, const std::string&, uint32_t timeoutMs) override {
    urls.push_back(url);
    return respond(timeoutMs);
  }
  HttpResponse post(const std::string& url, const std::string&, const std::string& json,
                    uint32_t timeoutMs) override {
    urls.push_back(url);
    posts.push_back(json);
    return respond(timeoutMs);
  }
  uint32_t random(uint32_t bound) override { return bound / 2; }
  void feedWatchdog() override { ++watchdogFeeds; }

 private:
  HttpResponse respond(uint32_t timeoutMs) {
    HttpResponse response;
    if (server) {
      response = server();
    } else if (!answers.empty()) {
      response = answers.front();
      answers.pop_front();
    }
    // A request that gets nothing back took the whole timeout.
    now += response.delivered ? httpDelayMs : timeoutMs;
    return response;
  }
};

}  // namespace pumppilot::testing
