"""Running `pumppilot demo` as a real process, for end-to-end and restart tests."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class DemoServer:
    client: httpx.Client
    process: subprocess.Popen[str]
    output: str = ""

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when power or the OOM killer strikes."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@contextmanager
def demo_server(data_dir: Path, port: int) -> Iterator[DemoServer]:
    """Run `pumppilot demo`, wait until it answers, and stop it cleanly afterwards.

    What the command printed is in `output` once the block has ended.
    """
    environment = {**os.environ, "PUMPPILOT_DATA_DIR": str(data_dir), "PUMPPILOT_PORT": str(port)}
    environment.pop("MONGODB_URI", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "pumppilot", "demo"],
        env=environment,
        cwd=data_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    server = DemoServer(httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10), process)
    try:
        _wait_until_up(server.client, process)
        yield server
    finally:
        server.client.close()
        if process.poll() is None:
            process.terminate()
        server.output, _ = process.communicate(timeout=30)


def _wait_until_up(client: httpx.Client, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "the demo server exited during start-up"
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the demo server did not answer within a minute")
