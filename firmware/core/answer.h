#pragma once

#include <cstdint>
#include <string>

#include "hal.h"

namespace pumppilot {

// A poll answer the board may act on.
struct PollAnswer {
  bool motorOn = false;
  std::string state;  // IDLE, RUNNING or HOLD
  std::string holdReason;
  int64_t remainingSeconds = 0;
  int64_t leaseSeconds = 0;
  int64_t pollSeconds = 0;
  int64_t seq = 0;
  int64_t serverTime = 0;
};

enum class AnswerFault {
  None,
  NoAnswer,      // nothing came back: network down, refused, timed out
  HttpStatus,    // a status other than 200 (an error answer says OFF anyway)
  Malformed,     // not the JSON the contract promises, or cut short
  WrongTenant,   // an answer for another tenant: a misrouted or cached reply
  Inconsistent,  // parsed, but breaks the contract (ON while not RUNNING, a zero lease)
  StaleSeq,      // older than an answer already acted on (set by the controller)
};

struct AnswerReading {
  AnswerFault fault = AnswerFault::None;
  PollAnswer answer;
  // The server's error code, when it sent one.
  std::string errorCode;
};

// Reads a poll response against ../schema/device/poll-response.schema.json. Anything that
// is not a well-formed 200 answer for `adminId` is a fault, and a fault means motor OFF.
AnswerReading readPollAnswer(const HttpResponse& response, const std::string& adminId);

const char* faultName(AnswerFault fault);

}  // namespace pumppilot
