"""The files in schema/ are the contract: they must match what the code serves."""

from pathlib import Path

from typer.testing import CliRunner

from pumppilot.api.graphql.sdl import current_sdl
from pumppilot.cli import app

SDL_FILE = Path(__file__).parents[1] / "schema" / "schema.graphql"


def test_committed_sdl_is_current():
    assert SDL_FILE.read_text() == current_sdl(), (
        "schema/schema.graphql is stale: run `pumppilot export-schema` and commit the result"
    )


def test_export_writes_the_sdl_and_check_then_passes(tmp_path: Path):
    target = tmp_path / "schema.graphql"
    runner = CliRunner()

    written = runner.invoke(app, ["export-schema", "--path", str(target)])
    checked = runner.invoke(app, ["export-schema", "--path", str(target), "--check"])

    assert (written.exit_code, checked.exit_code) == (0, 0)
    assert "type Query" in target.read_text()


def test_check_fails_on_a_stale_file(tmp_path: Path):
    target = tmp_path / "schema.graphql"
    target.write_text(current_sdl().replace("stopMotor", "haltMotor"))

    result = CliRunner().invoke(app, ["export-schema", "--path", str(target), "--check"])

    assert result.exit_code == 1
    assert "stale" in result.output
