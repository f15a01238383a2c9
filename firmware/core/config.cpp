#include "config.h"

#include <cctype>

namespace pumppilot {
namespace {

constexpr std::size_t kMaxSsid = 32;
constexpr std::size_t kMinWifiPassword = 8;
constexpr std::size_t kMaxWifiPassword = 63;
constexpr std::size_t kMaxDeviceId = 64;
constexpr std::size_t kMaxKey = 128;
constexpr std::size_t kAdminIdLength = 24;

bool startsWith(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

bool printableAscii(const std::string& text) {
  for (char c : text) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string* field(Config& config, const std::string& name) {
  if (name == "wifiSsid") return &config.wifiSsid;
  if (name == "wifiPassword") return &config.wifiPassword;
  if (name == "serverUrl") return &config.serverUrl;
  if (name == "adminId") return &config.adminId;
  if (name == "deviceId") return &config.deviceId;
  if (name == "deviceKey") return &config.deviceKey;
  return nullptr;
}

}  // namespace

std::string configProblem(const Config& config) {
  if (config.wifiSsid.empty() || config.wifiSsid.size() > kMaxSsid)
    return "wifiSsid must be 1 to 32 characters";
  std::size_t password = config.wifiPassword.size();
  if (password != 0 && (password < kMinWifiPassword || password > kMaxWifiPassword))
    return "wifiPassword must be empty (open network) or 8 to 63 characters";
  if (!startsWith(config.serverUrl, "http://") && !startsWith(config.serverUrl, "https://"))
    return "serverUrl must start with http:// or https://";
  if (!printableAscii(config.serverUrl)) return "serverUrl must not contain spaces";
  if (config.adminId.size() != kAdminIdLength) return "adminId must be 24 hex digits";
  for (char c : config.adminId) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c)))
      return "adminId must be 24 lower-case hex digits";
  }
  if (config.deviceId.empty() || config.deviceId.size() > kMaxDeviceId ||
      !printableAscii(config.deviceId))
    return "deviceId must be 1 to 64 printable ASCII characters";
  if (config.deviceKey.empty() || config.deviceKey.size() > kMaxKey ||
      !printableAscii(config.deviceKey))
    return "deviceKey must be the key registerDevice showed";
  return "";
}

std::string applyConfigLine(Config& config, const std::string& line) {
  std::size_t equals = line.find('=');
  if (equals == std::string::npos) return "expected name=value";
  std::string* target = field(config, line.substr(0, equals));
  if (target == nullptr) return "unknown setting " + line.substr(0, equals);
  std::string value = line.substr(equals + 1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
  *target = value;
  return "";
}

std::string configLines(const Config& config) {
  return "wifiSsid=" + config.wifiSsid + "\nwifiPassword=" + config.wifiPassword +
         "\nserverUrl=" + config.serverUrl + "\nadminId=" + config.adminId +
         "\ndeviceId=" + config.deviceId + "\ndeviceKey=" + config.deviceKey + "\n";
}

std::string baseUrl(const Config& config) {
  std::string url = config.serverUrl;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace pumppilot
