"""What the adapters share at run time: settings, the clock and the token signer."""

from dataclasses import dataclass

from pumppilot.auth.tokens import TokenSigner
from pumppilot.clock import Clock
from pumppilot.config import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    clock: Clock
    signer: TokenSigner
