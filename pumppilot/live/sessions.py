"""Callers behind access tokens, read from the store again only when something changed.

Every request and every new operation on a websocket needs its caller; reading the
session and the account for each would make sign-in state the costliest part of a
dashboard. A caller is reused while its tenant's watch has heard no suspension, logout
or other change to the account, and for at most `MAX_AGE_SECONDS` in any case (a guard
against an event lost on the way, which the Redis bus otherwise reports as a resync).
The token itself is verified on every call, so expiry needs no store read.
"""

import time
from collections import OrderedDict
from dataclasses import dataclass, replace

from pumppilot.auth.tokens import TokenSigner
from pumppilot.clock import Clock
from pumppilot.engines import accounts
from pumppilot.engines.caller import Caller
from pumppilot.errors import PumpPilotError
from pumppilot.live.watch import Watches

# Sessions remembered per worker; the oldest are forgotten first.
MAX_SESSIONS = 20_000
MAX_AGE_SECONDS = 60.0


@dataclass(frozen=True)
class _Checked:
    caller: Caller
    # None until the tenant was watched before the read: such a caller is not reused.
    stamp: tuple[int, ...] | None
    checked_at: float


class SessionCache:
    def __init__(self, watches: Watches) -> None:
        self._watches = watches
        self._checked: OrderedDict[str, _Checked] = OrderedDict()

    async def authenticate(
        self, token: str, *, signer: TokenSigner, clock: Clock, address: str | None
    ) -> Caller:
        claims = signer.verify(token, kind="access")
        known = self._checked.get(claims.session_id)
        same_account = known is not None and str(known.caller.account_id) == claims.account_id
        if known is not None and same_account and await self._still_good(known):
            return replace(known.caller, address=address)

        # The stamp is taken before the read, so a change during the read is not missed.
        stamp = None
        started = time.monotonic()
        if known is not None and known.caller.tenant_id is not None:
            watch = await self._watches.touch(known.caller.tenant_id)
            stamp = watch.security_stamp(known.caller.account_id)
        try:
            caller = await accounts.authenticate(
                token=token, signer=signer, clock=clock, address=address
            )
        except PumpPilotError:
            self._checked.pop(claims.session_id, None)
            raise

        # The master has no tenant to watch, so the master's sessions are always read.
        if caller.tenant_id is not None:
            if known is None or known.caller.tenant_id != caller.tenant_id:
                stamp = None
            self._remember(claims.session_id, _Checked(caller, stamp, started))
        return caller

    async def _still_good(self, known: _Checked) -> bool:
        if known.stamp is None or known.caller.tenant_id is None:
            return False
        if time.monotonic() - known.checked_at >= MAX_AGE_SECONDS:
            return False
        watch = await self._watches.touch(known.caller.tenant_id)
        return watch.security_stamp(known.caller.account_id) == known.stamp

    def _remember(self, session_id: str, checked: _Checked) -> None:
        self._checked[session_id] = checked
        self._checked.move_to_end(session_id)
        if len(self._checked) > MAX_SESSIONS:
            self._checked.popitem(last=False)
