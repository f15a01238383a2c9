#include <doctest/doctest.h>

#include "../core/json.h"
#include "fake_hal.h"

using namespace pumppilot;

TEST_CASE("a server answer parses with every field and its type") {
  JsonObject object;
  REQUIRE(parseJsonObject(testing::answerBody(), object));
  CHECK(object["motor"].text == "ON");
  CHECK(object["holdReason"].kind == JsonValue::Kind::Null);
  CHECK(object["leaseSeconds"].number == 15);
}

TEST_CASE("an error answer keeps its code one level down") {
  JsonObject object;
  REQUIRE(parseJsonObject(R"({"motor":"OFF","error":{"code":"SUSPENDED","message":"x \"y\""}})",
                          object));
  CHECK(object["error"].members["code"].text == "SUSPENDED");
}

TEST_CASE("every cut-short prefix of an answer is refused") {
  std::string body = testing::answerBody();
  JsonObject object;
  for (std::size_t length = 0; length < body.size(); ++length) {
    CAPTURE(length);
    CHECK_FALSE(parseJsonObject(body.substr(0, length), object));
  }
}

TEST_CASE("text the contract never sends is refused") {
  const char* refused[] = {
      "",
      "[]",
      "null",
      R"({"motor":"ON",})",
      R"({"motor":"ON"} trailing)",
      R"({"motor":"ON","motor":"OFF"})",
      R"({"seq":1.5})",
      R"({"seq":1e3})",
      R"({"seq":0012})",
      R"({"seq":99999999999999999999})",
      R"({"list":[1,2]})",
      R"({"a":{"b":{"c":{}}}})",
      "{\"motor\":\"O\nN\"}",
      R"({"motor":"\x"})",
      R"({motor:"ON"})",
      R"({"flag":tru})",
  };
  JsonObject object;
  for (const char* text : refused) {
    CAPTURE(text);
    CHECK_FALSE(parseJsonObject(text, object));
  }
}

TEST_CASE("an oversized body is refused before it is read") {
  std::string body = "{\"pad\":\"" + std::string(kMaxJsonBytes, 'x') + "\"}";
  JsonObject object;
  CHECK_FALSE(parseJsonObject(body, object));
}

TEST_CASE("strings are escaped for the scan request") {
  CHECK(jsonString("pump \"1\"\\") == R"("pump \"1\"\\")");
}
