// The fault matrix: whatever goes wrong, the relay is never ON unsafely.
#include <doctest/doctest.h>

#include <functional>

#include "../core/controller.h"
#include "fake_hal.h"

using namespace pumppilot;
using namespace pumppilot::testing;

namespace {

Config bench() {
  Config config;
  config.wifiSsid = "village";
  config.serverUrl = "http://127.0.0.1:8000";
  config.adminId = kTenant;
  config.deviceId = "pump 1";
  config.deviceKey = "ppd_key";
  return config;
}

// Ticks every 10 ms of board time for `ms`, as the sketch's loop would.
void run(Controller& controller, FakeHal& hal, uint32_t ms) {
  uint32_t until = hal.now + ms;
  while (static_cast<int32_t>(until - hal.now) > 0) {
    controller.tick();
    hal.now += 10;
  }
}

// A board that has booted, settled its inputs and is running on a RUNNING answer.
struct Running {
  FakeHal hal;
  Controller controller{hal, bench()};

  Running() {
    hal.server = [] { return ok(answerBody()); };
    controller.begin();
    run(controller, hal, 2500);
    REQUIRE(controller.relayOn());
  }
};

}  // namespace

TEST_CASE("the relay is OFF at boot, before any answer and while inputs settle") {
  FakeHal hal;
  hal.server = [] { return ok(answerBody()); };
  Controller controller(hal, bench());
  controller.begin();
  CHECK_FALSE(hal.relay);
  REQUIRE_FALSE(hal.relayWrites.empty());
  CHECK_FALSE(hal.relayWrites.front());

  run(controller, hal, 1500);
  CHECK_FALSE(hal.relay);
  run(controller, hal, 1000);
  CHECK(hal.relay);
}

TEST_CASE("the poll reports the board's view and identity") {
  Running board;
  run(board.controller, board.hal, 6000);
  std::string url = board.hal.urls.back();
  CHECK(url.find("http://127.0.0.1:8000/api/esp32/poll?adminId=6a1f0c2e9b7d4a3c5e8f1b20") == 0);
  CHECK(url.find("&deviceId=pump%201") != std::string::npos);
  CHECK(url.find("&loadShedding=0&ready=1&output=1&fw=0.1.0&uptime=") != std::string::npos);
}

TEST_CASE("every server-side fault switches a running motor OFF at the next poll") {
  const std::function<HttpResponse()> faults[] = {
      [] { return nothing(); },  // server down or timed out
      [] { return status(500, answerBody()); },
      [] { return status(502, "<html>bad gateway</html>"); },
      [] { return ok("{\"adminId\": \"" + std::string(kTenant) + "\", \"motor\": \"ON\""); },
      [] { return ok("not json"); },
      [] { return ok(answerBody("ON", "RUNNING", 15, 5, 42, "0000000000000000000000ff")); },
      [] { return ok(answerBody("ON", "HOLD")); },
  };
  for (const auto& fault : faults) {
    Running board;
    board.hal.server = fault;
    run(board.controller, board.hal, 6000);
    CHECK_FALSE(board.hal.relay);
    CHECK(board.controller.lastFault() != AnswerFault::None);
  }
}

TEST_CASE("every cut-short ON answer leaves the relay OFF") {
  std::string body = answerBody();
  for (std::size_t length = 0; length < body.size(); ++length) {
    FakeHal hal;
    std::string cut = body.substr(0, length);
    hal.server = [cut] { return ok(cut); };
    Controller controller(hal, bench());
    controller.begin();
    run(controller, hal, 3000);
    CAPTURE(length);
    CHECK_FALSE(hal.relay);
  }
}

TEST_CASE("a stale lease switches the relay OFF even without a failed poll") {
  Running board;
  // The server goes quiet with a long poll interval: the lease must end the run alone.
  board.hal.server = [] { return ok(answerBody("ON", "RUNNING", 3, 300)); };
  board.controller.pollSoon();
  run(board.controller, board.hal, 100);
  REQUIRE(board.hal.relay);
  run(board.controller, board.hal, 3000);
  CHECK_FALSE(board.hal.relay);
}

TEST_CASE("load shedding switches OFF at once and ON only after settling") {
  Running board;
  board.hal.shedding = true;
  board.controller.step();
  CHECK_FALSE(board.hal.relay);

  board.hal.shedding = false;
  run(board.controller, board.hal, 1500);
  CHECK_FALSE(board.hal.relay);
  run(board.controller, board.hal, 1000);
  CHECK(board.hal.relay);
}

TEST_CASE("a pump that is not ready switches OFF at once") {
  Running board;
  board.hal.ready = false;
  board.controller.step();
  CHECK_FALSE(board.hal.relay);
}

TEST_CASE("flapping inputs keep the relay OFF") {
  Running board;
  for (int i = 0; i < 200; ++i) {
    board.hal.shedding = i % 4 == 0;
    board.controller.tick();
    board.hal.now += 300;
    CHECK_FALSE(board.hal.relay);
  }
}

TEST_CASE("the clock jumping either way switches the relay OFF") {
  Running forward;
  forward.hal.now += 20000;
  forward.controller.step();
  CHECK_FALSE(forward.hal.relay);

  Running backward;
  backward.hal.now -= 5000;
  backward.controller.step();
  CHECK_FALSE(backward.hal.relay);
}

TEST_CASE("the board's clock wrapping after 49 days is not a fault") {
  FakeHal hal;
  hal.now = 0xFFFFFFFFu - 1000;
  hal.server = [] { return ok(answerBody()); };
  Controller controller(hal, bench());
  controller.begin();
  run(controller, hal, 2500);
  CHECK(hal.relay);
  run(controller, hal, 10000);
  CHECK(hal.relay);
}

TEST_CASE("a reboot mid-run starts OFF and waits for a fresh answer") {
  Running before;
  REQUIRE(before.hal.relay);

  FakeHal after;
  after.now = 0;
  after.server = [] { return nothing(); };
  Controller rebooted(after, bench());
  rebooted.begin();
  run(rebooted, after, 30000);
  CHECK_FALSE(after.relay);
}

TEST_CASE("failed polls back off, with a cap, and recover at once") {
  Running board;
  board.hal.server = [] { return nothing(); };
  board.hal.urls.clear();
  run(board.controller, board.hal, 120000);
  std::size_t attempts = board.hal.urls.size();
  CHECK(attempts >= 5);
  CHECK(attempts <= 12);

  board.hal.server = [] { return ok(answerBody()); };
  run(board.controller, board.hal, 65000);
  CHECK(board.controller.consecutiveFailures() == 0);
  CHECK(board.hal.relay);
}

TEST_CASE("an answer older than one acted on is refused, until three in a row say so") {
  Running board;
  board.hal.server = [] { return ok(answerBody("ON", "RUNNING", 15, 1, 3)); };
  board.controller.pollSoon();
  board.controller.tick();
  CHECK_FALSE(board.hal.relay);
  CHECK(board.controller.lastFault() == AnswerFault::StaleSeq);
  run(board.controller, board.hal, 1200);
  CHECK_FALSE(board.hal.relay);
  run(board.controller, board.hal, 6000);
  CHECK(board.hal.relay);
}

TEST_CASE("the watchdog is fed on every pass of the loop") {
  Running board;
  int before = board.hal.watchdogFeeds;
  board.controller.tick();
  CHECK(board.hal.watchdogFeeds == before + 1);
}

// Random faults, inputs and clock behaviour; after every tick the relay may be ON only if
// the board has seen a valid ON answer within its lease and both inputs have read safe
// for the whole settling time.
TEST_CASE("under random faults the relay is never ON unsafely") {
  uint32_t seed = 12345;
  auto next = [&seed](uint32_t bound) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % bound;
  };

  FakeHal hal;
  Controller controller(hal, bench());
  uint32_t lastGoodSentAt = 0;
  bool sawGood = false;
  uint32_t lastUnsafeAt = 0;
  hal.server = [&] {
    uint32_t roll = next(10);
    if (roll < 5) {
      lastGoodSentAt = hal.now;
      sawGood = true;
      return ok(answerBody("ON", "RUNNING", 4, 1, 42));
    }
    if (roll == 5) return nothing();
    if (roll == 6) return status(503, "");
    if (roll == 7) return ok(answerBody().substr(0, next(60)));
    if (roll == 8) return ok(answerBody("OFF", "IDLE", 4, 1, 42));
    return ok(answerBody("ON", "RUNNING", 4, 1, 42, "0000000000000000000000ff"));
  };
  controller.begin();

  for (int i = 0; i < 200000; ++i) {
    hal.shedding = next(100) < 3;
    hal.ready = next(100) >= 2;
    if (hal.shedding || !hal.ready) lastUnsafeAt = hal.now;
    controller.tick();
    if (hal.relay) {
      REQUIRE(sawGood);
      REQUIRE(hal.now - lastGoodSentAt < 4000u + 100u);
      REQUIRE(hal.now - lastUnsafeAt >= 2000u);
    }
    hal.now += 10 + next(40);
  }
}
