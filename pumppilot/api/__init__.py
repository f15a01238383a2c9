"""Adapters from the outside world to the engines: GraphQL and the device REST shim."""
