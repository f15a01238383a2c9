"""A Hypothesis state machine drives the real engines over the real embedded store with
random starts, stops, leaves, recharges, board signals, clock advances, silent (offline)
boards and restarts, and checks DESIGN.md's invariants after every step against a simple
model of running time.
"""

import asyncio
import contextlib
import secrets
from datetime import timedelta
from typing import Any

import pytest
from beanie import PydanticObjectId, init_beanie
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from pymongo import AsyncMongoClient

from pumppilot.clock import ManualClock
from pumppilot.config import Settings, load_settings
from pumppilot.engines import devices, queue, suspension, timer, wallet
from pumppilot.engines.devices import DeviceReport
from pumppilot.engines.runs import ms_run
from pumppilot.errors import PumpPilotError, Suspended
from pumppilot.models import DOCUMENT_MODELS, Device, LedgerEntry, Run, RunStatus, User
from pumppilot.presence import presence
from pumppilot.store import EmbeddedStore
from tests.factories import Tenant, make_tenant

USERS = ("uma", "vic", "wes", "xia")
LEASE_MS = 15_000
OFFLINE_AFTER_MS = 30_000


class QueueMachine(RuleBasedStateMachine):
    """One tenant, four users, one board; the model is each run's expected running time."""

    uri = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = ManualClock()
        self.settings: Settings = load_settings(
            mongodb_uri=self.uri,
            database=f"machine_{secrets.token_hex(5)}",
            token_secret="m" * 40,
            offline_after_seconds=OFFLINE_AFTER_MS // 1000,
            lease_seconds=LEASE_MS // 1000,
            timer_seconds=0,
        )
        self.client: AsyncMongoClient[dict[str, Any]] | None = None
        self.run_ms: dict[PydanticObjectId, int] = {}
        self.tenant: Tenant = self._run(self._open_and_seed())

    def _run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    async def _connect(self) -> None:
        self.client = AsyncMongoClient(self.uri, tz_aware=True)
        database = self.client[self.settings.database]
        await init_beanie(database=database, document_models=list(DOCUMENT_MODELS))

    async def _open_and_seed(self) -> Tenant:
        await self._connect()
        tenant = await make_tenant("machine", self.clock, balances=dict.fromkeys(USERS, 3))
        await devices.poll(
            admin_id=str(tenant.id),
            device_id=tenant.device_id,
            key=tenant.device_key,
            report=DeviceReport(load_shedding=False, ready=True),
            settings=self.settings,
            clock=self.clock,
        )
        return tenant

    def teardown(self) -> None:
        async def close() -> None:
            assert self.client is not None
            await self.client.drop_database(self.settings.database)
            await self.client.close()

        self._run(close())
        self.loop.close()

    async def _attempt(self, work: Any) -> None:
        # Refusals (no run to stop, not enough balance) are answers, not failures.
        with contextlib.suppress(PumpPilotError):
            await work
        await queue.settle_due(self.tenant.id, settings=self.settings, clock=self.clock)

    @rule(user=st.sampled_from(USERS), minutes=st.integers(min_value=1, max_value=4))
    def start(self, user: str, minutes: int) -> None:
        self._run(
            self._attempt(
                queue.start_run(
                    tenant_id=self.tenant.id,
                    user_id=self.tenant.user_id(user),
                    minutes=minutes,
                    settings=self.settings,
                    clock=self.clock,
                )
            )
        )

    @rule(user=st.sampled_from(USERS))
    def stop(self, user: str) -> None:
        self._run(
            self._attempt(
                queue.stop_run(
                    tenant_id=self.tenant.id,
                    user_id=self.tenant.user_id(user),
                    settings=self.settings,
                    clock=self.clock,
                )
            )
        )

    @rule(user=st.sampled_from(USERS))
    def leave(self, user: str) -> None:
        self._run(
            self._attempt(
                queue.leave_queue(
                    tenant_id=self.tenant.id,
                    user_id=self.tenant.user_id(user),
                    settings=self.settings,
                    clock=self.clock,
                )
            )
        )

    @rule(user=st.sampled_from(USERS), minutes=st.integers(min_value=1, max_value=3))
    def recharge(self, user: str, minutes: int) -> None:
        self._run(
            self._attempt(
                wallet.recharge(
                    actor=self.tenant.as_admin,
                    user_id=self.tenant.user_id(user),
                    minutes=minutes,
                    idempotency_key=secrets.token_hex(6),
                    clock=self.clock,
                )
            )
        )

    def _poll(self, report: DeviceReport) -> Any:
        return devices.poll(
            admin_id=str(self.tenant.id),
            device_id=self.tenant.device_id,
            key=self.tenant.device_key,
            report=report,
            settings=self.settings,
            clock=self.clock,
        )

    def _runs_for(self, milliseconds: int) -> None:
        """Credit the model's active RUNNING run with up to `milliseconds` of running."""
        active = self._run(queue.active_run(self.tenant.id))
        if active is not None and active.status is RunStatus.RUNNING:
            assert active.id is not None
            left = active.limit_seconds * 1000 - self.run_ms.get(active.id, 0)
            self.run_ms[active.id] = self.run_ms.get(active.id, 0) + min(milliseconds, left)

    @rule(load_shedding=st.booleans(), ready=st.booleans())
    def board_reports(self, load_shedding: bool, ready: bool) -> None:
        self._run(self._attempt(self._poll(DeviceReport(load_shedding=load_shedding, ready=ready))))

    @rule(milliseconds=st.integers(min_value=0, max_value=10_000))
    def time_passes_with_the_board_polling(self, milliseconds: int) -> None:
        self._runs_for(milliseconds)
        self.clock.advance(milliseconds / 1000)
        self._run(self._attempt(self._poll(DeviceReport())))
        self._run(timer.tick(settings=self.settings, clock=self.clock))

    @rule(milliseconds=st.integers(min_value=OFFLINE_AFTER_MS + 1, max_value=300_000))
    def board_falls_silent(self, milliseconds: int) -> None:
        # The motor runs out the lease of the board's last poll, and the run is charged
        # that much. The store records polls at most once per poll interval; the
        # process's presence table has the last one.
        board = self._run(Device.find_one({"admin_id": self.tenant.id}))
        assert board is not None
        last_poll = presence().last_seen(str(board.id), board.last_seen_at)
        assert last_poll is not None
        lease_end = last_poll + timedelta(milliseconds=LEASE_MS)
        self._runs_for(max(0, round((lease_end - self.clock.now()).total_seconds() * 1000)))
        self.clock.advance(milliseconds / 1000)
        self._run(timer.tick(settings=self.settings, clock=self.clock))

    @rule(user=st.sampled_from(USERS))
    def suspend_then_reactivate(self, user: str) -> None:
        async def suspend_and_check() -> None:
            user_id = self.tenant.user_id(user)
            await suspension.set_user_suspended(
                actor=self.tenant.as_admin,
                user_id=user_id,
                suspended=True,
                settings=self.settings,
                clock=self.clock,
            )
            # Invariant 6: from the suspension on, the user has no run and cannot start one.
            assert await queue.open_run_of(user_id) is None
            with pytest.raises(Suspended):
                await queue.start_run(
                    tenant_id=self.tenant.id,
                    user_id=user_id,
                    minutes=1,
                    settings=self.settings,
                    clock=self.clock,
                )
            await suspension.set_user_suspended(
                actor=self.tenant.as_admin,
                user_id=user_id,
                suspended=False,
                settings=self.settings,
                clock=self.clock,
            )

        self._run(suspend_and_check())

    @rule()
    def restart(self) -> None:
        async def reconnect() -> None:
            assert self.client is not None
            await self.client.close()
            await self._connect()

        self._run(reconnect())

    @invariant()
    def the_board_is_told_on_only_while_a_run_is_running(self) -> None:
        # Invariant 7, the server's half: ON exactly while the tenant's run is RUNNING.
        # Polling here also keeps the board heard from at the end of every step.
        answer = self._run(self._poll(DeviceReport()))
        active = self._run(queue.active_run(self.tenant.id))
        running = active is not None and active.status is RunStatus.RUNNING
        assert answer.motor_on is running
        assert answer.state == (active.status.value if active is not None else "IDLE")

    @invariant()
    def at_most_one_active_run(self) -> None:
        active = self._run(Run.find({"admin_id": self.tenant.id, "active": True}).count())
        assert active <= 1

    @invariant()
    def waiting_positions_are_gapless_and_in_request_order(self) -> None:
        view = self._run(
            queue.tenant_queue(self.tenant.id, settings=self.settings, clock=self.clock)
        )
        positions = [self._run(queue.waiting_position(run)) for run in view.waiting]
        assert positions == list(range(1, len(view.waiting) + 1))
        assert [run.ticket for run in view.waiting] == sorted(run.ticket for run in view.waiting)

    @invariant()
    def balances_are_never_negative_and_match_the_ledger(self) -> None:
        for user in USERS:
            user_id = self.tenant.user_id(user)
            stored = self._run(User.get(user_id))
            entries = self._run(LedgerEntry.find(LedgerEntry.user_id == user_id).to_list())
            assert stored.balance_seconds >= 0
            assert stored.balance_seconds == sum(entry.seconds for entry in entries)

    @invariant()
    def charges_equal_the_time_spent_running(self) -> None:
        runs = self._run(Run.find(Run.admin_id == self.tenant.id).to_list())
        for run in runs:
            expected_ms = self.run_ms.get(run.id, 0)
            if run.status is RunStatus.DONE:
                assert run.charged_seconds == min(expected_ms // 1000, run.limit_seconds)
            elif run.active:
                assert ms_run(run, self.clock.now()) == expected_ms


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_the_engines_keep_every_invariant(embedded_store: EmbeddedStore):
    QueueMachine.uri = embedded_store.uri
    run_state_machine_as_test(
        QueueMachine,
        settings=hypothesis_settings(
            max_examples=10,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
