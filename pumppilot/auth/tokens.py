"""Signed access tokens that name a server-side session."""

from dataclasses import dataclass
from datetime import timedelta

import jwt

from pumppilot.clock import Clock
from pumppilot.errors import Unauthenticated

ISSUER = "pumppilot"
AUDIENCE = "pumppilot-api"
TOKEN_TYPE = "access"  # noqa: S105 -- a claim value, not a secret
ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    session_id: str
    account_id: str


class TokenSigner:
    def __init__(self, secret: str, ttl_seconds: int, clock: Clock) -> None:
        self._secret = secret
        self._ttl = timedelta(seconds=ttl_seconds)
        self._clock = clock

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    def issue(self, *, session_id: str, account_id: str) -> str:
        now = self._clock.now()
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": account_id,
            "sid": session_id,
            "typ": TOKEN_TYPE,
            "iat": int(now.timestamp()),
            "exp": int((now + self._ttl).timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> TokenClaims:
        try:
            # Expiry is checked below against the injected clock rather than the wall clock.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"verify_exp": False, "require": ["exp", "iat", "sub", "sid", "typ"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated("the access token is not valid; log in again") from exc

        if claims["typ"] != TOKEN_TYPE:
            raise Unauthenticated("this is not an access token")
        if claims["exp"] <= self._clock.now().timestamp():
            raise Unauthenticated("the access token has expired; log in again")

        return TokenClaims(session_id=str(claims["sid"]), account_id=str(claims["sub"]))
