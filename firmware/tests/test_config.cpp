#include <doctest/doctest.h>

#include "../core/config.h"
#include "fake_hal.h"

using namespace pumppilot;

Config goodConfig() {
  Config config;
  config.wifiSsid = "village";
  config.wifiPassword = "long enough";
  config.serverUrl = "https://pumps.example.org/";
  config.adminId = testing::kTenant;
  config.deviceId = "pump-1";
  config.deviceKey = "ppd_secret";
  return config;
}

TEST_CASE("a complete configuration has no problem") {
  CHECK(configProblem(goodConfig()).empty());
  CHECK(baseUrl(goodConfig()) == "https://pumps.example.org");
}

TEST_CASE("each missing or malformed setting is named") {
  Config config = goodConfig();
  config.adminId = "6A1F0C2E9B7D4A3C5E8F1B20";
  CHECK(configProblem(config).find("adminId") != std::string::npos);

  config = goodConfig();
  config.serverUrl = "pumps.example.org";
  CHECK(configProblem(config).find("serverUrl") != std::string::npos);

  config = goodConfig();
  config.wifiPassword = "short";
  CHECK(configProblem(config).find("wifiPassword") != std::string::npos);

  config = goodConfig();
  config.deviceKey.clear();
  CHECK(configProblem(config).find("deviceKey") != std::string::npos);
}

TEST_CASE("provisioning lines set fields and round-trip through storage") {
  Config entered;
  std::string lines = configLines(goodConfig());
  std::size_t start = 0;
  while (start < lines.size()) {
    std::size_t end = lines.find('\n', start);
    CHECK(applyConfigLine(entered, lines.substr(start, end - start)).empty());
    start = end + 1;
  }
  CHECK(configLines(entered) == lines);
  CHECK_FALSE(applyConfigLine(entered, "colour=blue").empty());
  CHECK_FALSE(applyConfigLine(entered, "no equals sign").empty());
}
