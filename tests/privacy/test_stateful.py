"""Property-based (Hypothesis, stateful): random interleavings of uploads, try-ons, generation
progress (run, claim, a worker dying), erasures (also during a storage outage), clock advances and
sweeps, across two accounts (one in both modes) and several customers.

After every step: nothing erased or expired is readable, nothing live is lost, what the right
of access lists is exactly what is held, credits balance (balance == sum of the ledger == grants
minus the generations that hold or spent a credit) and the storage audit finds no orphan and
nothing missing; right after a sweep the audit is entirely clean.

Services are called in-process (no HTTP) with small images and the placeholder engine, so 200
examples run in about a minute.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from privacy_helpers import FaultyBlobs, make_jpeg
from sqlalchemy import func, select

from tryon.accounts import service as accounts_service
from tryon.accounts.models import Account, CreditMovement
from tryon.accounts.service import Caller
from tryon.clock import ManualClock
from tryon.config import Settings
from tryon.context import build_context
from tryon.customers import service as customers_service
from tryon.db import transaction
from tryon.errors import ApiError
from tryon.generations import service as generations_service
from tryon.generations import tasks
from tryon.generations.models import Generation
from tryon.generations.schemas import parse_try_on
from tryon.images import service as images_service
from tryon.jobs.queue import JobQueue
from tryon.retention.service import sweep
from tryon.storage import keys
from tryon.storage.audit import audit_storage
from tryon.storage.router import served_object

GRANT = 1000
CUSTOMERS = ["c0", "c1", "c2"]
PHOTOS = [make_jpeg(72, 90, seed=300 + i) for i in range(3)]
GARMENT = make_jpeg(64, 80, seed=400)
BASE_URL = "http://tryon.test"


@dataclass
class ImageModel:
    id: str
    key: str
    caller: int
    customer: str | None
    expires_at: datetime
    erased: bool = False


@dataclass
class GenerationModel:
    id: str
    caller: int
    owners: set[str]
    expires_at: datetime
    erased: bool = False
    completed: bool = False
    held_attempt: int | None = None  # a worker that claimed it and has not finished
    attempts: set[int] = field(default_factory=set)


class PrivacyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="tryon-stateful-"))
        self.clock = ManualClock()
        self.context = build_context(
            Settings(data_dir=self.folder, engine="placeholder"), self.clock
        )
        self.queued: list[str] = []
        self.context.queue = JobQueue(huey=None, run_generation=self.queued.append)  # type: ignore[arg-type]
        now = self.clock.now()
        with transaction(self.context.sessions) as session:
            a = accounts_service.create_account(session, now, "A", credits=GRANT).id
            b = accounts_service.create_account(session, now, "B", credits=GRANT).id
        # Two accounts; the first in both modes (live and test data are apart too).
        self.callers = [
            Caller(a, True, 1000, 7),
            Caller(a, False, 1000, 7),
            Caller(b, True, 1000, 7),
        ]
        self.images: list[ImageModel] = []
        self.generations: list[GenerationModel] = []

    def teardown(self) -> None:
        self.context.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- helpers ------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def visible(self, item: ImageModel | GenerationModel) -> bool:
        return not item.erased and self.now() < item.expires_at

    def servable(self, key: str | None) -> bool:
        """Whether the signed-URL route would serve this key (given a valid signature)."""
        return bool(key) and served_object(self.context, key) is not None

    def generation_row(self, generation_id: str) -> Generation:
        with self.context.sessions() as session:
            row = session.get(Generation, generation_id)
        assert row is not None
        return row

    # -- rules --------------------------------------------------------------------------------

    @rule(
        caller=st.integers(0, 2),
        customer=st.sampled_from([None, *CUSTOMERS]),
        retention=st.sampled_from([None, 1, 3, 7]),
        photo=st.integers(0, len(PHOTOS) - 1),
    )
    def upload(self, caller: int, customer: str | None, retention: int | None, photo: int) -> None:
        image = images_service.upload_customer_image(
            self.context,
            self.callers[caller],
            PHOTOS[photo],
            crop=False,
            customer_id=customer,
            retention_days=retention,
        )
        expected = self.now() + timedelta(days=retention or 7)
        assert image.expires_at == expected
        self.images.append(ImageModel(image.id, image.storage_key, caller, customer, expected))

    @rule(
        caller=st.integers(0, 2),
        pick=st.one_of(st.none(), st.integers(0, 10_000)),
        customer=st.sampled_from([None, *CUSTOMERS]),
        retention=st.sampled_from([None, 1, 3, 7]),
    )
    def try_on(
        self, caller: int, pick: int | None, customer: str | None, retention: int | None
    ) -> None:
        source = None if pick is None or not self.images else self.images[pick % len(self.images)]
        document: dict = {"product": {"title": "Shirt", "images": [{"fileKey": "garment"}]}}
        document["customer"] = {"fileKey": "me"} if source is None else {"id": source.id}
        if customer is not None:
            document["customerId"] = customer
        if retention is not None:
            document["retentionDays"] = retention
        files = {"garment": GARMENT, "me": PHOTOS[0]}
        usable = source is None or (source.caller == caller and self.visible(source))
        try:
            accepted = generations_service.create_generation(
                self.context, self.callers[caller], parse_try_on(document), files
            )
        except ApiError as error:
            assert not usable and error.code == "IMAGE_NOT_FOUND", error
            return
        assert usable, "another caller's, an erased or an expired photo was used"
        assert accepted["status"] == "PENDING"
        # Retention: the call's, else the photo's, else the default; never outliving the photo
        # it was made from, whatever the call asked for.
        expires = self.now() + timedelta(days=retention or 7)
        if source is not None:
            days = retention or int(source.id.split("retention-")[1].split("d/")[0])
            expires = min(self.now() + timedelta(days=days), source.expires_at)
        owners = {
            c for c in (customer or (source and source.customer), source and source.customer) if c
        }
        row = self.generation_row(accepted["generationId"])
        assert row.expires_at == expires
        self.generations.append(GenerationModel(row.id, caller, owners, expires))

    @precondition(lambda self: self.generations)
    @rule(pick=st.integers(0, 10_000))
    def run_worker(self, pick: int) -> None:
        """A worker runs a generation (or finishes the attempt it claimed earlier)."""
        generation = self.generations[pick % len(self.generations)]
        if generation.held_attempt is not None:
            outcome = tasks.finish_generation(self.context, generation.id, generation.held_attempt)
            generation.held_attempt = None
        else:
            outcome = tasks.run_generation(self.context, generation.id)
        assert outcome in ("COMPLETED", "discarded", "skipped"), outcome
        if outcome == "COMPLETED":
            assert not generation.erased, "an erased generation completed"
            generation.completed = True

    @precondition(lambda self: any(g.held_attempt is None for g in self.generations))
    @rule(pick=st.integers(0, 10_000), dies=st.booleans())
    def claim_job(self, pick: int, dies: bool) -> None:
        """A worker claims a generation and either keeps working on it (finished by a later
        run_worker, possibly after an erasure, a sweep or a requeue) or stores its result and
        dies before recording it."""
        free = [g for g in self.generations if g.held_attempt is None]
        generation = free[pick % len(free)]
        attempt = tasks.claim_generation(self.context, generation.id)
        if attempt is None:
            return
        generation.attempts.add(attempt)
        if not dies:
            generation.held_attempt = attempt
            return
        row = self.generation_row(generation.id)
        self.context.blobs.put(keys.result_key(row.account_id, row.live, row.id, attempt), GARMENT)

    @rule(
        target_pick=st.one_of(st.none(), st.integers(0, 10_000)),
        caller=st.integers(0, 2),
        customer=st.sampled_from(CUSTOMERS),
        outage=st.sampled_from([False, False, False, True]),
    )
    def erase(self, target_pick: int | None, caller: int, customer: str, outage: bool) -> None:
        # Mostly a customer who holds something in that account and mode, sometimes any.
        held = sorted(
            {(i.caller, i.customer) for i in self.images if i.customer}
            | {(g.caller, c) for g in self.generations for c in g.owners}
        )
        if target_pick is not None and held:
            caller, customer = held[target_pick % len(held)]
        if outage:
            faulty = FaultyBlobs(self.context.blobs)
            faulty.failing.add("delete")
            self.context.blobs = faulty  # type: ignore[assignment]
        try:
            customers_service.erase_customer(self.context, self.callers[caller], customer)
        except ApiError as error:
            assert outage and error.code == "SERVICE_UNAVAILABLE", error
        finally:
            if outage:
                self.context.blobs = faulty._inner
        for image in self.images:
            if image.caller == caller and image.customer == customer:
                image.erased = True
        for generation in self.generations:
            if generation.caller == caller and customer in generation.owners:
                generation.erased = True

    @rule(hours=st.integers(1, 100))
    def advance_clock(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @rule()
    def run_sweeper(self) -> None:
        sweep(self.context)
        report = audit_storage(self.context)
        assert report.clean and report.pending_deletions == 0, report.as_text()

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def nothing_orphaned_or_missing(self) -> None:
        report = audit_storage(self.context)
        assert not report.orphans and not report.missing, report.as_text()

    @invariant()
    def images_readable_exactly_while_live(self) -> None:
        now = self.now()
        for image in self.images:
            caller = self.callers[image.caller]
            # One session at a time: each takes SQLite's write lock (BEGIN IMMEDIATE).
            with self.context.sessions() as session:
                try:
                    images_service.find_customer_image(session, caller, image.id, now)
                    found = True
                except ApiError as error:
                    assert error.code == "IMAGE_NOT_FOUND"
                    found = False
            assert found == self.visible(image), image
            if self.visible(image):
                assert self.servable(image.key), f"live photo lost: {image}"
            elif image.erased:
                assert not self.servable(image.key), f"erased photo served: {image}"

    @invariant()
    def generations_readable_exactly_while_live(self) -> None:
        now = self.now()
        for generation in self.generations:
            caller = self.callers[generation.caller]
            with self.context.sessions() as session:
                try:
                    row = generations_service.find_generation(session, caller, generation.id, now)
                except ApiError as error:
                    assert error.code == "GENERATION_NOT_FOUND"
                    row = None
            assert (row is not None) == (now < generation.expires_at), generation
            if row is None:
                continue
            owned = generations_service.snapshot_keys(row)
            if generation.erased:
                assert row.customer_id is None and row.photo_customer_id is None
                assert row.person_key is None and row.result_key is None
                every_key = [
                    keys.generation_key(row.account_id, row.live, row.id, "person"),
                    keys.generation_key(row.account_id, row.live, row.id, "product-0"),
                    *(keys.result_key(row.account_id, row.live, row.id, n) for n in range(1, 5)),
                ]
                assert not any(self.servable(k) for k in every_key), generation
                assert row.status in ("COMPLETED", "FAILED")
            else:
                assert row.person_key and all(self.servable(k) for k in owned), generation
                if generation.completed:
                    assert row.status == "COMPLETED" and self.servable(row.result_key)

    @invariant()
    def access_lists_exactly_what_is_held(self) -> None:
        for index, caller in enumerate(self.callers):
            for customer in CUSTOMERS:
                images = {
                    i.id
                    for i in self.images
                    if i.caller == index and i.customer == customer and self.visible(i)
                }
                generations = {
                    g.id
                    for g in self.generations
                    if g.caller == index and customer in g.owners and self.visible(g)
                }
                try:
                    held = customers_service.customer_data(self.context, caller, customer, BASE_URL)
                except ApiError as error:
                    assert error.code == "CUSTOMER_NOT_FOUND"
                    assert not images and not generations, (caller, customer)
                    continue
                assert {u["imageId"] for u in held["uploads"]} == images
                assert {g["generationId"] for g in held["generations"]} == generations

    @invariant()
    def credits_balance(self) -> None:
        with self.context.sessions() as session:
            for account_id in {c.account_id for c in self.callers}:
                balance = session.scalar(
                    select(Account.credit_balance).where(Account.id == account_id)
                )
                ledger = session.scalar(
                    select(func.sum(CreditMovement.delta)).where(
                        CreditMovement.account_id == account_id
                    )
                )
                holding = session.scalar(
                    select(func.count())
                    .select_from(Generation)
                    .where(
                        Generation.account_id == account_id,
                        Generation.live.is_(True),
                        Generation.status.in_(("PENDING", "PROCESSING", "COMPLETED")),
                    )
                )
                assert balance == ledger == GRANT - holding, (balance, ledger, holding)


PrivacyMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
class TestPrivacyStateMachine(PrivacyMachine.TestCase):  # type: ignore[name-defined,misc]
    pass
