"""The REST shim that ESP32 boards poll."""
