"""The rules of PumpPilot. Engines change state only through conditional writes and
never import from `api`: every channel (GraphQL, device poll) goes through them."""
