// PumpPilot on an ESP32: Wi-Fi, provisioning over serial, the MFRC522 reader, and the
// core's controller deciding the relay. All decisions live in ../core; this file wires
// the board to it.
#include <Arduino.h>
#include <MFRC522.h>
#include <Preferences.h>
#include <SPI.h>
#include <WiFi.h>

#include <memory>

#include "board_hal.h"
#include "config.h"
#include "controller.h"
#include "scan.h"

namespace {

pumppilot::BoardHal hal;
Preferences storage;
MFRC522 reader(pumppilot::kRfidSsPin, pumppilot::kRfidResetPin);
std::unique_ptr<pumppilot::Controller> controller;
std::unique_ptr<pumppilot::ScanFlow> scanner;
pumppilot::Config config;
String typed;

pumppilot::Config storedConfig() {
  pumppilot::Config stored;
  String lines = storage.getString("config", "");
  int start = 0;
  while (start < static_cast<int>(lines.length())) {
    int end = lines.indexOf('\n', start);
    if (end < 0) end = lines.length();
    pumppilot::applyConfigLine(stored, lines.substring(start, end).c_str());
    start = end + 1;
  }
  return stored;
}

// Provisioning: type "name=value" lines (wifiSsid, wifiPassword, serverUrl, adminId,
// deviceId, deviceKey), then "save". The board checks, stores and restarts.
void readConsole() {
  while (Serial.available()) {
    char c = static_cast<char>(Serial.read());
    if (c != '\n') {
      typed += c;
      continue;
    }
    typed.trim();
    if (typed == "save") {
      std::string problem = pumppilot::configProblem(config);
      if (problem.empty()) {
        storage.putString("config", pumppilot::configLines(config).c_str());
        Serial.println("saved; restarting");
        delay(100);
        ESP.restart();
      }
      Serial.printf("not saved: %s\n", problem.c_str());
    } else if (typed.length() > 0) {
      std::string problem = pumppilot::applyConfigLine(config, typed.c_str());
      Serial.println(problem.empty() ? "ok" : problem.c_str());
    }
    typed = "";
  }
}

void readCard() {
  if (!reader.PICC_IsNewCardPresent() || !reader.PICC_ReadCardSerial()) return;
  pumppilot::ScanOutcome outcome;
  if (scanner->onCard(reader.uid.uidByte, reader.uid.size, outcome)) {
    Serial.printf("card: %s %s %s\n", outcome.action.c_str(), outcome.state.c_str(),
                  outcome.errorCode.c_str());
    // The relay follows the poll alone; ask now so a started run starts at once.
    controller->pollSoon();
  }
  reader.PICC_HaltA();
}

}  // namespace

void setup() {
  // First of all: the relay OFF, whatever state the pins woke in.
  hal.begin();
  Serial.begin(115200);
  storage.begin("pumppilot", false);
  config = storedConfig();
  SPI.begin();
  reader.PCD_Init();

  std::string problem = pumppilot::configProblem(config);
  if (!problem.empty()) {
    Serial.printf("not provisioned: %s\n", problem.c_str());
    return;
  }
  WiFi.mode(WIFI_STA);
  WiFi.setAutoReconnect(true);
  WiFi.begin(config.wifiSsid.c_str(), config.wifiPassword.c_str());
  controller.reset(new pumppilot::Controller(hal, config));
  scanner.reset(new pumppilot::ScanFlow(hal, config));
  controller->begin();
}

void loop() {
  readConsole();
  if (!controller) {
    // Unprovisioned: the relay stays OFF and the watchdog is still fed.
    hal.setRelay(false);
    hal.feedWatchdog();
    delay(10);
    return;
  }
  controller->tick();
  readCard();
  delay(10);
}
