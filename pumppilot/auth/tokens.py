"""Signed tokens that name a server-side session.

Two kinds: short-lived access tokens sent with every request, and refresh tokens that
buy a new pair. Each names its signing key by id, so a secret can be rotated while the
tokens it signed run out.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import jwt

from pumppilot.clock import Clock
from pumppilot.errors import Unauthenticated

ISSUER = "pumppilot"
AUDIENCE = "pumppilot-api"
ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]


@dataclass(frozen=True)
class TokenClaims:
    session_id: str
    account_id: str
    generation: int


def key_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


class TokenSigner:
    def __init__(
        self, secret: str, access_ttl_seconds: int, clock: Clock, previous: tuple[str, ...] = ()
    ) -> None:
        self._current = secret
        self._keys = {key_id(key): key for key in (secret, *previous)}
        self._access_ttl = timedelta(seconds=access_ttl_seconds)
        self._clock = clock

    def issue(
        self,
        *,
        kind: TokenType,
        session_id: str,
        account_id: str,
        generation: int = 0,
        ttl: timedelta | None = None,
    ) -> str:
        now = self._clock.now()
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": account_id,
            "sid": session_id,
            "gen": generation,
            "typ": kind,
            "iat": int(now.timestamp()),
            "exp": int((now + (ttl or self._access_ttl)).timestamp()),
        }
        headers = {"kid": key_id(self._current)}
        return jwt.encode(claims, self._current, algorithm=ALGORITHM, headers=headers)

    def verify(self, token: str, *, kind: TokenType) -> TokenClaims:
        try:
            secret = self._keys.get(jwt.get_unverified_header(token).get("kid", ""))
            if secret is None:
                raise Unauthenticated("the token was signed with an unknown key; log in again")
            # Expiry is checked below against the injected clock rather than the wall clock.
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={
                    "verify_exp": False,
                    "require": ["exp", "iat", "sub", "sid", "typ", "gen"],
                },
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated("the token is not valid; log in again") from exc

        if claims["typ"] != kind:
            raise Unauthenticated(f"this is not an {kind} token")
        if claims["exp"] <= self._clock.now().timestamp():
            raise Unauthenticated("the token has expired; refresh it or log in again")

        return TokenClaims(
            session_id=str(claims["sid"]),
            account_id=str(claims["sub"]),
            generation=int(claims["gen"]),
        )
