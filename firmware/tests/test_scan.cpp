#include <doctest/doctest.h>

#include "../core/scan.h"
#include "fake_hal.h"

using namespace pumppilot;
using namespace pumppilot::testing;

namespace {

Config bench() {
  Config config;
  config.serverUrl = "http://127.0.0.1:8000/";
  config.adminId = kTenant;
  config.deviceId = "pump-1";
  config.deviceKey = "ppd_key";
  return config;
}

const uint8_t kCard[] = {0x04, 0xA2, 0x1B, 0xFF};

}  // namespace

TEST_CASE("a card is sent with the board's identity and its answer read") {
  FakeHal hal;
  hal.answers.push_back(ok(R"({"action":"STARTED","state":"RUNNING"})"));
  ScanFlow flow(hal, bench());
  ScanOutcome outcome;

  REQUIRE(flow.onCard(kCard, sizeof kCard, outcome));
  CHECK(hal.urls.back() == "http://127.0.0.1:8000/api/esp32/scan");
  CHECK(hal.posts.back() ==
        R"({"adminId":"6a1f0c2e9b7d4a3c5e8f1b20","deviceId":"pump-1","cardId":"04A21BFF"})");
  CHECK(outcome.accepted);
  CHECK(outcome.action == "STARTED");
}

TEST_CASE("a card left on the reader counts once") {
  FakeHal hal;
  hal.server = [] { return ok(R"({"action":"STARTED","state":"RUNNING"})"); };
  ScanFlow flow(hal, bench());
  ScanOutcome outcome;

  CHECK(flow.onCard(kCard, sizeof kCard, outcome));
  hal.now += 1000;
  CHECK_FALSE(flow.onCard(kCard, sizeof kCard, outcome));
  hal.now += 3000;
  CHECK(flow.onCard(kCard, sizeof kCard, outcome));
  CHECK(hal.posts.size() == 2);
}

TEST_CASE("a refused or lost scan says so and starts nothing") {
  FakeHal hal;
  hal.answers.push_back(
      status(402, R"({"motor":"OFF","error":{"code":"INSUFFICIENT_BALANCE","message":"x"}})"));
  hal.answers.push_back(nothing());
  ScanFlow flow(hal, bench());
  ScanOutcome outcome;

  flow.onCard(kCard, sizeof kCard, outcome);
  CHECK_FALSE(outcome.accepted);
  CHECK(outcome.errorCode == "INSUFFICIENT_BALANCE");

  hal.now += 5000;
  flow.onCard(kCard, sizeof kCard, outcome);
  CHECK_FALSE(outcome.accepted);
  CHECK(outcome.errorCode.empty());
}
