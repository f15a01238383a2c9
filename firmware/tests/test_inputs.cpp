#include <doctest/doctest.h>

#include "../core/inputs.h"

using pumppilot::SafetyInput;

TEST_CASE("an input reads unsafe at boot until it has settled") {
  SafetyInput input(2000, 10000);
  input.update(false, 0);
  CHECK(input.unsafe());
  input.update(false, 1999);
  CHECK(input.unsafe());
  input.update(false, 2000);
  CHECK_FALSE(input.unsafe());
}

TEST_CASE("unsafe counts at once; safe again only after settling") {
  SafetyInput input(2000, 10000);
  input.update(false, 0);
  input.update(false, 3000);
  REQUIRE_FALSE(input.unsafe());
  input.update(true, 3010);
  CHECK(input.unsafe());
  input.update(false, 3020);
  CHECK(input.unsafe());
  input.update(false, 5020);
  CHECK_FALSE(input.unsafe());
}

TEST_CASE("a flapping input stays unsafe") {
  SafetyInput input(2000, 10000);
  for (uint32_t now = 0; now < 60000; now += 500) {
    input.update((now / 500) % 3 == 0, now);
    CHECK(input.unsafe());
  }
}

TEST_CASE("a gap in readings or a clock going back counts as unsafe") {
  SafetyInput input(2000, 10000);
  input.update(false, 0);
  input.update(false, 2000);
  REQUIRE_FALSE(input.unsafe());
  input.update(false, 20000);
  CHECK(input.unsafe());

  input.update(false, 23000);
  REQUIRE_FALSE(input.unsafe());
  input.update(false, 1000);
  CHECK(input.unsafe());
}
