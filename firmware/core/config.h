#pragma once

#include <string>

namespace pumppilot {

// What a board must know to work, entered once at installation (provisioning) over the
// serial console and kept in flash (see esp32/README in ../README.md).
struct Config {
  std::string wifiSsid;
  std::string wifiPassword;
  std::string serverUrl;  // e.g. https://pumps.example.org, no trailing slash needed
  std::string adminId;    // the tenant, 24 hex digits
  std::string deviceId;   // as registered with registerDevice
  std::string deviceKey;  // shown once by registerDevice or rotateDeviceKey
};

// Empty when the configuration can be used; otherwise what is wrong with it, in words an
// installer can act on.
std::string configProblem(const Config& config);

// Applies one provisioning line, "name=value" (names: wifiSsid, wifiPassword, serverUrl,
// adminId, deviceId, deviceKey). Returns an empty string or the problem with the line.
std::string applyConfigLine(Config& config, const std::string& line);

// All settings as provisioning lines, one per line, for storing and reading back.
std::string configLines(const Config& config);

// The server URL without a trailing slash.
std::string baseUrl(const Config& config);

}  // namespace pumppilot
