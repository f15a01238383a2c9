"""The `pumppilot` command: run the service, run the demo, export the contracts."""

import asyncio
import gc
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from starlette.applications import Starlette

from pumppilot import simulate as simulation
from pumppilot.api.graphql.sdl import current_sdl
from pumppilot.app import create_app
from pumppilot.clock import SystemClock
from pumppilot.config import ConfigError, Settings, load_settings
from pumppilot.demo import DemoCredentials, seed_demo
from pumppilot.engines import accounts
from pumppilot.errors import PumpPilotError
from pumppilot.fleet import run_fast
from pumppilot.store import EMBEDDED_FILE, EmbeddedStore, open_store

app = typer.Typer(help="PumpPilot: shared water pumps.", no_args_is_help=True)
log = logging.getLogger("pumppilot")

SCHEMA_FILE = Path("schema") / "schema.graphql"
# The default (700) runs a young collection every few hundred allocations.
GC_YOUNG_THRESHOLD = 10_000
PortOption = Annotated[int | None, typer.Option(help="Port to listen on (PUMPPILOT_PORT).")]


def main() -> None:
    app()


def _settings(**overrides: object) -> Settings:
    try:
        settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        typer.echo(f"pumppilot: {exc}", err=True)
        raise typer.Exit(2) from None

    # Logging is configured here, at the entry point, and nowhere else.
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return settings


def _serve(settings: Settings) -> None:
    try:
        application = create_app(settings)
    except ConfigError as exc:
        typer.echo(f"pumppilot: {exc}", err=True)
        raise typer.Exit(2) from None
    run_server(application, settings)


def run_server(application: Starlette, settings: Settings) -> None:
    """Serve the app with uvicorn, tuned for many boards and open streams."""
    # Everything imported so far lives as long as the process: keep the collector from
    # walking it again and again. Open sockets and streams add many small objects, and a
    # full collection of them all would stall every stream at once; collect less often.
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_config=None,
        # The websockets library's own sans-I/O protocol; its older one is deprecated.
        ws="websockets-sansio",
        # Stream messages are a few hundred bytes; compressing them would cost each open
        # socket a zlib window (tens of KiB) and CPU on every message.
        ws_per_message_deflate=False,
        # Boards poll every few seconds; keep their connections open across polls.
        timeout_keep_alive=settings.poll_seconds * 3,
    )


@app.command()
def serve(port: PortOption = None) -> None:
    """Run the service with the settings from the environment."""
    _serve(_settings(port=port))


@app.command()
def demo(port: PortOption = None) -> None:
    """Create the demo data (once), print how to use it, then run the service."""
    settings = _settings(port=port)

    async def seed() -> DemoCredentials:
        store = await open_store(settings)
        try:
            return await seed_demo(settings.data_dir, SystemClock())
        finally:
            await store.close()

    creds = asyncio.run(seed())
    _print_demo(settings, creds)
    _serve(settings)


@app.command("store")
def store(
    port: Annotated[int, typer.Option(help="Loopback port to serve on.")] = 27017,
    memory: Annotated[bool, typer.Option(help="Keep nothing on disk.")] = False,
) -> None:
    """Serve the embedded store on its own, so several workers can share it.

    Point each worker at it with MONGODB_URI=mongodb://127.0.0.1:PORT/?directConnection=true.
    It suits tests and trials of several workers on one machine; production uses MongoDB.
    """
    settings = _settings()
    embedded = EmbeddedStore(None if memory else settings.data_dir / EMBEDDED_FILE, port=port)
    typer.echo(embedded.start(), err=False)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    embedded.stop()


@app.command("create-master")
def create_master(
    identifier: Annotated[str, typer.Option(prompt=True, help="Login identifier.")],
    name: Annotated[str, typer.Option(prompt=True, help="Display name.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Prompted without echo when omitted; avoid passing it on the command line.",
        ),
    ],
) -> None:
    """Create the platform's master admin, who creates and suspends tenants."""
    settings = _settings()

    async def create() -> str:
        store = await open_store(settings)
        try:
            master = await accounts.create_master(
                identifier=identifier, name=name, password=password, clock=SystemClock()
            )
            return str(master.id)
        finally:
            await store.close()

    try:
        master_id = asyncio.run(create())
    except PumpPilotError as exc:
        typer.echo(f"pumppilot: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created master admin {master_id}")


@app.command()
def simulate(  # noqa: PLR0917 -- each is a command-line option
    devices: Annotated[int, typer.Option(min=1, help="How many boards to simulate.")] = 100,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between polls.")] = 5.0,
    duration: Annotated[float, typer.Option(min=1, help="Seconds to run.")] = 60.0,
    url: Annotated[str, typer.Option(help="The server.")] = "http://127.0.0.1:8000",
    admin: Annotated[str, typer.Option(help="The admin whose tenant gets the boards.")] = "",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, envvar="PUMPPILOT_SIMULATE_PASSWORD")
    ] = "",
    keys_file: Annotated[Path, typer.Option(help="Where the boards' keys are kept.")] = Path(
        "data/simulated-boards.json"
    ),
) -> None:
    """Drive many simulated boards against a running server, for demos and load tests."""
    if not admin:
        typer.echo("pumppilot: name the admin with --admin", err=True)
        raise typer.Exit(2)
    try:
        boards = asyncio.run(simulation.provision(url, admin, password, devices, keys_file))
        figures = run_fast(simulation.simulate(url, boards, interval=interval, duration=duration))
    except simulation.SimulationError as exc:
        typer.echo(f"pumppilot: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(simulation.summary(figures))


@app.command("export-schema")
def export_schema(
    path: Annotated[Path, typer.Option(help="Where to write the SDL.")] = SCHEMA_FILE,
    check: Annotated[bool, typer.Option(help="Only check that the file is current.")] = False,
) -> None:
    """Write the GraphQL SDL that clients build against."""
    sdl = current_sdl()
    if check:
        if not path.exists() or path.read_text() != sdl:
            typer.echo(f"{path} is stale: run `pumppilot export-schema`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{path} is current")
        return

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sdl)
    typer.echo(f"wrote {path}")


def _print_demo(settings: Settings, creds: DemoCredentials) -> None:
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        "",
        "PumpPilot demo",
        f"  GraphiQL      {base}/graphql",
        f"  data          {settings.data_dir.resolve()}",
        "",
        "  accounts (identifier / password):",
    ]
    lines += [f"    {name:<8} {password}" for name, password in creds.passwords.items()]
    lines += ["", "  devices (poll with the key as 'Authorization: Bearer <key>'):"]
    for tenant, info in creds.tenants.items():
        lines += [
            f"    {tenant}: {base}/api/esp32/poll?adminId={info.admin_id}&deviceId=pump-1",
            f"    {' ' * len(tenant)}  key {info.device_key}",
        ]
    typer.echo("\n".join([*lines, ""]))
