#include "curl_hal.h"

#include <cstdio>
#include <fstream>

namespace pumppilot::host {
namespace {

size_t collect(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

}  // namespace

CurlHal::CurlHal(std::string inputsFile) : inputsFile_(std::move(inputsFile)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl_ = curl_easy_init();
}

CurlHal::~CurlHal() {
  curl_easy_cleanup(curl_);
  curl_global_cleanup();
}

uint32_t CurlHal::millis() {
  auto elapsed = std::chrono::steady_clock::now() - boot_;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  return static_cast<uint32_t>(ms);
}

void CurlHal::readInputs() {
  // Lines "loadShedding=1" and "ready=0"; a missing file or line keeps the last value.
  std::ifstream file(inputsFile_);
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind("loadShedding=", 0) == 0) shedding_ = line.substr(13) == "1";
    if (line.rfind("ready=", 0) == 0) ready_ = line.substr(6) == "1";
  }
}

bool CurlHal::loadSheddingRaw() {
  readInputs();
  return shedding_;
}

bool CurlHal::deviceReadyRaw() { return ready_; }

void CurlHal::setRelay(bool on) {
  if (relay_ == static_cast<int>(on)) return;
  relay_ = on;
  std::printf("relay %s at %u ms\n", on ? "ON" : "OFF", millis());
  std::fflush(stdout);
}

HttpResponse CurlHal::get(const std::string& url, const std::string& bearer, uint32_t timeoutMs) {
  return perform(url, bearer, nullptr, timeoutMs);
}

HttpResponse CurlHal::post(const std::string& url, const std::string& bearer,
                           const std::string& json, uint32_t timeoutMs) {
  return perform(url, bearer, &json, timeoutMs);
}

HttpResponse CurlHal::perform(const std::string& url, const std::string& bearer,
                              const std::string* json, uint32_t timeoutMs) {
  HttpResponse response;
  std::string authorization = "Authorization: Bearer " + bearer;
  curl_slist* headers = curl_slist_append(nullptr, authorization.c_str());
  if (json != nullptr) headers = curl_slist_append(headers, "Content-Type: application/json");

  curl_easy_reset(curl_);
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeoutMs));
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  if (json != nullptr) curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, json->c_str());

  CURLcode result = curl_easy_perform(curl_);
  if (result == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    response.delivered = true;
    response.status = static_cast<int>(status);
  } else {
    response.body.clear();
  }
  curl_slist_free_all(headers);
  return response;
}

uint32_t CurlHal::random(uint32_t bound) {
  return std::uniform_int_distribution<uint32_t>(0, bound - 1)(random_);
}

}  // namespace pumppilot::host
