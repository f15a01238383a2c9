"""The command line: creating the master admin without echoing the password."""

import asyncio

import pytest
from typer.testing import CliRunner

from pumppilot.auth.passwords import verify_password
from pumppilot.cli import app
from pumppilot.config import Settings
from pumppilot.models import Admin, Role
from pumppilot.store import open_store


@pytest.fixture
def cli_environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    assert settings.mongodb_uri is not None
    monkeypatch.setenv("MONGODB_URI", settings.mongodb_uri)
    monkeypatch.setenv("PUMPPILOT_DATABASE", settings.database)
    monkeypatch.setenv("PUMPPILOT_TOKEN_SECRET", "t" * 40)
    return settings


def stored_master(settings: Settings) -> Admin | None:
    async def find() -> Admin | None:
        store = await open_store(settings)
        try:
            return await Admin.find_one(Admin.identifier == "root")
        finally:
            await store.client.drop_database(settings.database)
            await store.close()

    return asyncio.run(find())


def test_create_master_prompts_for_the_password_without_echo(cli_environment: Settings):
    password = "a lantern on the hill"
    answers = f"root\nPlatform root\n{password}\n{password}\n"

    result = CliRunner().invoke(app, ["create-master"], input=answers)
    master = stored_master(cli_environment)

    assert result.exit_code == 0, result.output
    assert password not in result.output
    assert master is not None
    assert master.role is Role.MASTER
    assert asyncio.run(verify_password(master.password_hash, password))


def test_create_master_refuses_a_common_password(cli_environment: Settings):
    answers = "root\nRoot\npassword1\npassword1\n"

    result = CliRunner().invoke(app, ["create-master"], input=answers)

    assert result.exit_code == 1
    assert "common" in result.output
    assert stored_master(cli_environment) is None
