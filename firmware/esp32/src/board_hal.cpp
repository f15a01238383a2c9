#include "board_hal.h"

#include <HTTPClient.h>
#include <WiFi.h>
#include <WiFiClientSecure.h>
#include <esp_random.h>
#include <esp_task_wdt.h>

#include "root_ca.h"

namespace pumppilot {
namespace {

constexpr uint32_t kWatchdogSeconds = 10;  // longer than one poll's HTTP timeout

bool unsafeLevels() {
  return digitalRead(kLoadSheddingPin) == HIGH || digitalRead(kReadyPin) == HIGH;
}

// An unsafe input cuts the relay from the interrupt, without waiting for the loop: the
// loop may be blocked in a poll for up to its HTTP timeout.
void IRAM_ATTR onInputChange() {
  if (unsafeLevels()) forceRelayOff();
}

}  // namespace

void IRAM_ATTR forceRelayOff() {
  digitalWrite(kRelayPin, LOW);
  digitalWrite(kOptoPin, LOW);
}

void BoardHal::begin() {
  pinMode(kRelayPin, OUTPUT);
  pinMode(kOptoPin, OUTPUT);
  forceRelayOff();
  // Pull-ups make a broken wire read unsafe on both inputs (see ../WIRING.md).
  pinMode(kLoadSheddingPin, INPUT_PULLUP);
  pinMode(kReadyPin, INPUT_PULLUP);
  attachInterrupt(digitalPinToInterrupt(kLoadSheddingPin), onInputChange, CHANGE);
  attachInterrupt(digitalPinToInterrupt(kReadyPin), onInputChange, CHANGE);

  // A hung loop (a stuck TLS handshake, a bug) resets the board, which boots OFF.
  esp_task_wdt_init(kWatchdogSeconds, true);
  esp_task_wdt_add(nullptr);
}

uint32_t BoardHal::millis() { return ::millis(); }

bool BoardHal::loadSheddingRaw() { return digitalRead(kLoadSheddingPin) == HIGH; }

bool BoardHal::deviceReadyRaw() { return digitalRead(kReadyPin) == LOW; }

void BoardHal::setRelay(bool on) {
  // Checked again here, so an input that changed since the core read it still wins.
  if (!on || unsafeLevels()) {
    forceRelayOff();
    return;
  }
  digitalWrite(kOptoPin, HIGH);
  digitalWrite(kRelayPin, HIGH);
}

HttpResponse BoardHal::get(const std::string& url, const std::string& bearer, uint32_t timeoutMs) {
  return request(url, bearer, nullptr, timeoutMs);
}

HttpResponse BoardHal::post(const std::string& url, const std::string& bearer,
                            const std::string& json, uint32_t timeoutMs) {
  return request(url, bearer, &json, timeoutMs);
}

HttpResponse BoardHal::request(const std::string& url, const std::string& bearer,
                               const std::string* json, uint32_t timeoutMs) {
  HttpResponse response;
  if (WiFi.status() != WL_CONNECTED) return response;

  static WiFiClient plain;
  static WiFiClientSecure secure;
  bool tls = url.rfind("https://", 0) == 0;
  if (tls) secure.setCACert(kRootCa);

  HTTPClient http;
  http.setReuse(true);  // one kept-alive connection across polls
  http.setTimeout(static_cast<uint16_t>(timeoutMs));
  http.setConnectTimeout(static_cast<int32_t>(timeoutMs));
  bool opened = tls ? http.begin(secure, url.c_str()) : http.begin(plain, url.c_str());
  if (!opened) return response;
  http.addHeader("Authorization", ("Bearer " + bearer).c_str());

  int status = json == nullptr ? http.GET()
                               : (http.addHeader("Content-Type", "application/json"),
                                  http.POST(String(json->c_str())));
  if (status > 0) {
    response.delivered = true;
    response.status = status;
    response.body = http.getString().c_str();
  }
  http.end();
  return response;
}

uint32_t BoardHal::random(uint32_t bound) { return esp_random() % bound; }

void BoardHal::feedWatchdog() { esp_task_wdt_reset(); }

}  // namespace pumppilot
