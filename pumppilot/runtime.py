"""What the adapters share at run time: settings, the clock, the token signer, live state."""

from dataclasses import dataclass, field

from pumppilot.auth.tokens import TokenSigner
from pumppilot.clock import Clock
from pumppilot.config import Settings
from pumppilot.live.boards import Boards
from pumppilot.live.sessions import SessionCache
from pumppilot.live.watch import Watches
from pumppilot.presence import Presence


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    clock: Clock
    signer: TokenSigner
    watches: Watches = field(default_factory=Watches)
    sessions: SessionCache = field(init=False)
    boards: Boards = field(init=False)
    presence: Presence = field(init=False)

    def __post_init__(self) -> None:
        # Frozen, so set through object: the caches must share this runtime's watches.
        object.__setattr__(self, "sessions", SessionCache(self.watches))
        object.__setattr__(self, "boards", Boards(self.watches, self.settings, self.clock))
        object.__setattr__(self, "presence", Presence(self.clock))
