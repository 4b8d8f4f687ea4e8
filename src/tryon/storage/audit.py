"""``tryon audit storage``: the storage invariant, checked.

A healthy system has none of these findings:

- **orphans**: stored objects that no row references (nothing could ever delete them by
  retention or erasure);
- **missing**: rows that reference an object the store does not have;
- **expired**: rows whose retention has passed but that still hold data or objects (the sweeper
  has not removed them yet);
- **overdue deletions**: objects recorded for deletion more than an hour ago and still not
  confirmed deleted by the store.

What counts as a reference: customer photos, a generation's person and product snapshots and
its result, a generation's result being written by its current attempt (while in flight), the
images of products, account logos, and pending deletions while they are pending (those objects
are on their way out and are never served).

The check is safe on a running server: rows are read before and after the listing, and every
candidate finding is confirmed against the store, so a deletion or a completion happening during
the audit is not reported. An upload that has stored its bytes but not yet its row is, for that
instant, an orphan: ``grace`` skips objects younger than that many seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tryon.accounts.models import Account
from tryon.clock import iso
from tryon.context import AppContext
from tryon.customers.models import PendingDeletion
from tryon.generations.models import Generation, IdempotencyRecord
from tryon.generations.service import IDEMPOTENCY_WINDOW
from tryon.images.models import CustomerImage
from tryon.products.models import Product, ProductImage
from tryon.storage import keys as key_layout

OVERDUE_DELETION = timedelta(hours=1)


@dataclass(frozen=True)
class Reference:
    owner: str  # "customer_image <id>", "generation <id> result", "product <id>", ...
    required: bool  # a row links it: it must exist (False: in flight, or pending deletion)


@dataclass
class References:
    linked: dict[str, Reference] = field(default_factory=dict)
    pending: dict[str, datetime] = field(default_factory=dict)

    def add(self, key: str | None, owner: str, required: bool = True) -> None:
        if key and (required or key not in self.linked):
            self.linked[key] = Reference(owner, required)

    def owns(self, key: str) -> bool:
        return key in self.linked or key in self.pending


@dataclass
class AuditReport:
    checked_at: datetime
    objects: int = 0
    referenced: int = 0
    pending_deletions: int = 0
    orphans: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    expired: list[dict[str, Any]] = field(default_factory=list)
    overdue_deletions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.orphans or self.missing or self.expired or self.overdue_deletions)

    def as_dict(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "checkedAt": iso(self.checked_at),
            "objects": self.objects,
            "referencedObjects": self.referenced,
            "pendingDeletions": self.pending_deletions,
            "orphans": self.orphans,
            "missing": self.missing,
            "expired": self.expired,
            "overdueDeletions": self.overdue_deletions,
        }

    def as_text(self) -> str:
        lines = [
            f"checked at {iso(self.checked_at)}: {self.objects} stored objects, "
            f"{self.referenced} referenced, {self.pending_deletions} pending deletion",
        ]
        for title, items in (
            ("orphans (stored, referenced by no row)", self.orphans),
            ("missing (referenced, not stored)", self.missing),
            ("expired (retention passed, not yet removed)", self.expired),
            ("overdue deletions", self.overdue_deletions),
        ):
            lines.append(f"{title}: {len(items)}")
            lines += [f"  {_describe(item)}" for item in items]
        lines.append("clean" if self.clean else "FINDINGS")
        return "\n".join(lines)


def _young(now: datetime, modified: datetime, grace: timedelta) -> bool:
    """Within the grace period (none when the grace is zero, whatever the clocks say)."""
    return grace > timedelta(0) and now - modified < grace


def _describe(item: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in item.items() if v is not None)


def collect_references(session: Session) -> References:
    """Every object key a row references, and the pending deletions."""
    refs = References()
    for row in session.execute(select(CustomerImage.id, CustomerImage.storage_key)):
        refs.add(row.storage_key, f"customer_image {row.id}")
    generations = select(
        Generation.id,
        Generation.account_id,
        Generation.live,
        Generation.status,
        Generation.attempts,
        Generation.person_key,
        Generation.result_key,
        Generation.product_snapshot,
    ).execution_options(yield_per=2000)
    for g in session.execute(generations):
        refs.add(g.person_key, f"generation {g.id} person")
        refs.add(g.result_key, f"generation {g.id} result")
        for image in (g.product_snapshot or {}).get("images", []):
            refs.add(image.get("key"), f"generation {g.id} product")
        if g.status == "PROCESSING" and g.attempts:
            # The running attempt may have written its result and not recorded it yet.
            in_flight = key_layout.result_key(g.account_id, g.live, g.id, g.attempts)
            refs.add(in_flight, f"generation {g.id} result (in flight)", required=False)
    product_images = select(ProductImage.storage_key, Product.external_id).join(
        Product, Product.id == ProductImage.product_id
    )
    for row in session.execute(product_images.where(ProductImage.storage_key.is_not(None))):
        refs.add(row.storage_key, f"product {row.external_id}")
    for row in session.execute(select(Account.id, Account.logo_key)):
        refs.add(row.logo_key, f"account {row.id} logo")
    for key, created_at in session.execute(
        select(PendingDeletion.storage_key, PendingDeletion.created_at)
    ):
        refs.pending[key] = created_at
    return refs


def find_orphans(
    context: AppContext, grace: timedelta = timedelta(0)
) -> tuple[list[tuple[str, datetime]], int]:
    """Objects no row references, confirmed still stored; and how many objects were listed."""
    listed = list(context.blobs.objects())
    with context.sessions() as session:
        refs = collect_references(session)
    now = context.clock.now()
    candidates = [
        (key, modified)
        for key, modified in listed
        if not refs.owns(key) and not _young(now, modified, grace)
    ]
    # Confirmed still stored: not an object deleted while we listed.
    orphans = [(key, m) for key, m in candidates if context.blobs.get(key) is not None]
    return orphans, len(listed)


def audit_storage(context: AppContext, grace_seconds: float = 0) -> AuditReport:
    """Check the storage invariant now; see the module docstring for what is reported."""
    now = context.clock.now()
    report = AuditReport(checked_at=now)
    with context.sessions() as session:
        before = collect_references(session)
    listed = dict(context.blobs.objects())
    with context.sessions() as session:
        after = collect_references(session)
        report.expired = list(_expired_rows(session, now))
    report.objects = len(listed)
    report.referenced = sum(1 for key in listed if after.owns(key))
    report.pending_deletions = len(after.pending)
    grace = timedelta(seconds=grace_seconds)
    for key, modified in sorted(listed.items()):
        if after.owns(key) or _young(now, modified, grace):
            continue
        if context.blobs.get(key) is not None:  # not deleted while we looked
            report.orphans.append({"key": key, "modifiedAt": iso(modified)})
    for key, ref in sorted(after.linked.items()):
        if not ref.required or key in listed or key in after.pending:
            continue
        # Linked before and after the listing, and still not stored: missing.
        if key in before.linked and context.blobs.get(key) is None:
            report.missing.append({"key": key, "owner": ref.owner})
    for key, created_at in sorted(after.pending.items()):
        if now - created_at >= OVERDUE_DELETION and key in listed:
            report.overdue_deletions.append({"key": key, "since": iso(created_at)})
    return report


def _expired_rows(session: Session, now: datetime) -> Iterator[dict[str, Any]]:
    """Rows past their retention that still hold something."""
    for image in session.scalars(select(CustomerImage).where(CustomerImage.expires_at <= now)):
        yield {
            "owner": f"customer_image {image.id}",
            "expiredAt": iso(image.expires_at),
            "key": image.storage_key,
        }
    holding = or_(
        Generation.customer_id.is_not(None),
        Generation.photo_customer_id.is_not(None),
        Generation.person_key.is_not(None),
        Generation.result_key.is_not(None),
    )
    for generation in session.scalars(
        select(Generation).where(Generation.expires_at <= now, holding)
    ):
        yield {"owner": f"generation {generation.id}", "expiredAt": iso(generation.expires_at)}
    products = select(Product).where(Product.expires_at.is_not(None), Product.expires_at <= now)
    for product in session.scalars(products):
        yield {
            "owner": f"product {product.external_id} (account {product.account_id})",
            "expiredAt": iso(product.expires_at),
        }
    cutoff = now - IDEMPOTENCY_WINDOW
    for record in session.scalars(
        select(IdempotencyRecord).where(IdempotencyRecord.created_at <= cutoff)
    ):
        yield {
            "owner": f"idempotency_record (account {record.account_id})",
            "expiredAt": iso(record.created_at + IDEMPOTENCY_WINDOW),
        }
