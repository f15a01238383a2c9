#include <doctest/doctest.h>

#include "../core/answer.h"
#include "fake_hal.h"

using namespace pumppilot;
using testing::answerBody;
using testing::kTenant;

TEST_CASE("a RUNNING answer for this tenant is read") {
  AnswerReading reading = readPollAnswer(testing::ok(answerBody()), kTenant);
  REQUIRE(reading.fault == AnswerFault::None);
  CHECK(reading.answer.motorOn);
  CHECK(reading.answer.leaseSeconds == 15);
  CHECK(reading.answer.seq == 42);
}

TEST_CASE("each fault is named for what went wrong") {
  struct Case {
    HttpResponse response;
    AnswerFault fault;
  };
  const Case cases[] = {
      {testing::nothing(), AnswerFault::NoAnswer},
      {testing::status(503, answerBody()), AnswerFault::HttpStatus},
      {testing::status(401, R"({"motor":"OFF","error":{"code":"UNAUTHENTICATED","message":""}})"),
       AnswerFault::HttpStatus},
      {testing::ok("<html>gateway</html>"), AnswerFault::Malformed},
      {testing::ok(R"({"motor":"ON"})"), AnswerFault::Malformed},
      {testing::ok(answerBody("MAYBE")), AnswerFault::Malformed},
      {testing::ok(answerBody("ON", "RUNNING", 15, 5, 42, "0000000000000000000000ff")),
       AnswerFault::WrongTenant},
      {testing::ok(answerBody("ON", "HOLD")), AnswerFault::Inconsistent},
      {testing::ok(answerBody("ON", "RUNNING", 0)), AnswerFault::Inconsistent},
      {testing::ok(answerBody("ON", "RUNNING", 15, 0)), AnswerFault::Inconsistent},
      {testing::ok(answerBody("ON", "SOMETHING")), AnswerFault::Inconsistent},
  };
  for (const Case& item : cases) {
    CAPTURE(item.response.body);
    CHECK(readPollAnswer(item.response, kTenant).fault == item.fault);
  }
}

TEST_CASE("the server's error code is kept for the console") {
  HttpResponse response =
      testing::status(403, R"({"motor":"OFF","error":{"code":"SUSPENDED","message":"x"}})");
  CHECK(readPollAnswer(response, kTenant).errorCode == "SUSPENDED");
}
