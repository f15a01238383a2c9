#pragma once

namespace pumppilot {

// Sent with every poll, so the server can tell which boards run which build.
constexpr const char* kFirmwareVersion = "0.1.0";

}  // namespace pumppilot
