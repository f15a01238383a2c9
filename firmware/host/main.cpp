// The board's logic as a Linux program: the same core as the ESP32 build, with libcurl
// for HTTP, a file for the two inputs and stdout for the relay. Used by the end-to-end
// test, and handy for trying a server without a board:
//
//   build/pumppilot-board http://127.0.0.1:8000 <adminId> <deviceId> <key> inputs.txt
#include <csignal>
#include <cstdio>
#include <thread>

#include "../core/controller.h"
#include "curl_hal.h"

namespace {

volatile std::sig_atomic_t stopping = 0;

void stop(int) { stopping = 1; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s <server> <adminId> <deviceId> <key> <inputs-file>\n", argv[0]);
    return 2;
  }
  pumppilot::Config config;
  config.wifiSsid = "host";
  config.serverUrl = argv[1];
  config.adminId = argv[2];
  config.deviceId = argv[3];
  config.deviceKey = argv[4];
  std::string problem = pumppilot::configProblem(config);
  if (!problem.empty()) {
    std::fprintf(stderr, "configuration: %s\n", problem.c_str());
    return 2;
  }

  std::signal(SIGTERM, stop);
  std::signal(SIGINT, stop);
  pumppilot::host::CurlHal hal(argv[5]);
  pumppilot::Controller controller(hal, config);
  controller.begin();

  pumppilot::AnswerFault reported = pumppilot::AnswerFault::None;
  while (!stopping) {
    controller.tick();
    if (controller.lastFault() != reported) {
      reported = controller.lastFault();
      std::printf("poll %s\n", pumppilot::faultName(reported));
      std::fflush(stdout);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  hal.setRelay(false);
  return 0;
}
