"""Events that engines publish after a change, for subscriptions to pick up.

Events say what changed, never the new state: a subscriber reads the state it may see
through the engines, so an event can never leak data past a permission check.
"""

from pumppilot.events.bus import EventBus, InMemoryBus, TenantEvent, bus, publish, use_bus

__all__ = ["EventBus", "InMemoryBus", "TenantEvent", "bus", "publish", "use_bus"]
