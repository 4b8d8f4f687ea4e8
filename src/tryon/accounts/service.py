"""Accounts, keys and credits: the logic behind the admin CLI and the auth dependency."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tryon.accounts.models import Account, ApiKey, CreditMovement
from tryon.errors import ApiError
from tryon.ids import new_id

RETENTION_PRESETS = (1, 3, 7)
# "full": every endpoint. "try-on": what a storefront needs (upload a photo, start a try-on,
# read its generation), not the catalog, customers' data, erasure or credits: a key that ships
# to browsers cannot list or erase shoppers' photos.
KEY_SCOPES = ("full", "try-on")
# Bounds of admin values, far inside SQLite's 64-bit INTEGER: a single grant (or starting
# balance) and a balance after a grant are at most MAX_CREDITS credits.
MAX_CREDITS = 1_000_000_000_000
MAX_RATE_LIMIT = 1_000_000  # requests per minute
MAX_NAME_LENGTH = 200  # the accounts.name column
# Stored in clear to name a key in admin commands: kind + 8 random characters.
KEY_PREFIX_LENGTH = 16


class AdminError(Exception):
    """A refused admin command (unknown account, bad value); the CLI prints it cleanly."""


@dataclass(frozen=True)
class Caller:
    """Who is calling: the account and whether the key is live or test mode."""

    account_id: str
    live: bool
    rate_limit_per_minute: int
    retention_days: int
    scope: str = "full"


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def create_account(
    session: Session,
    now: datetime,
    name: str,
    *,
    credits: int = 0,
    retention_days: int = 7,
    rate_limit: int = 100,
) -> Account:
    """Create an account; ``credits`` are granted through the ledger like any later grant."""
    if not name.strip():
        raise AdminError("the account name cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise AdminError(f"the account name can be at most {MAX_NAME_LENGTH} characters")
    if retention_days not in RETENTION_PRESETS:
        raise AdminError(f"retention days must be one of {RETENTION_PRESETS}")
    if rate_limit < 1:
        raise AdminError("rate limit must be at least 1 request per minute")
    if rate_limit > MAX_RATE_LIMIT:
        raise AdminError(f"rate limit can be at most {MAX_RATE_LIMIT:,} requests per minute")
    if credits < 0:
        raise AdminError("credits cannot be negative")
    if credits > MAX_CREDITS:
        raise AdminError(f"starting credits can be at most {MAX_CREDITS:,}")
    account = Account(
        id=new_id("acc_", 8),
        name=name,
        credit_balance=0,
        retention_days=retention_days,
        rate_limit_per_minute=rate_limit,
        disabled=False,
        created_at=now,
    )
    session.add(account)
    session.flush()
    if credits:
        grant_credits(session, now, account.id, credits)
    return account


def get_account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise AdminError(f"no account {account_id!r}")
    return account


def create_key(
    session: Session, now: datetime, account_id: str, *, live: bool = True, scope: str = "full"
) -> str:
    """Create an API key and return it; only its hash is stored, so this is the only chance."""
    if scope not in KEY_SCOPES:
        raise AdminError(f"scope must be one of {', '.join(KEY_SCOPES)}")
    get_account(session, account_id)
    kind = "gk_live_" if live else "gk_test_"
    api_key = kind + secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            id=new_id("key_", 8),
            account_id=account_id,
            key_hash=hash_key(api_key),
            prefix=api_key[:KEY_PREFIX_LENGTH],
            live=live,
            scope=scope,
            created_at=now,
        )
    )
    return api_key


def revoke_keys(session: Session, now: datetime, key_prefix: str) -> str:
    """Revoke the one active key named by its first 12-16 characters (or the whole key).

    Returns the revoked key's prefix. A prefix that matches no key, or several, is refused.
    """
    if len(key_prefix) < 12:
        raise AdminError("give at least the first 12 characters of the key")
    query = select(ApiKey).where(ApiKey.revoked_at.is_(None))
    if len(key_prefix) > KEY_PREFIX_LENGTH:
        query = query.where(ApiKey.key_hash == hash_key(key_prefix))
    else:
        query = query.where(ApiKey.prefix.startswith(key_prefix, autoescape=True))
    keys = session.scalars(query).all()
    if not keys:
        raise AdminError("no active key starts with that prefix")
    if len(keys) > 1:
        raise AdminError(f"{len(keys)} keys start with that prefix; give more characters")
    keys[0].revoked_at = now
    return keys[0].prefix


def authenticate(session: Session, api_key: str | None) -> Caller:
    """The caller behind an ``x-api-key`` value, or MISSING_API_KEY / INVALID_API_KEY."""
    if not api_key:
        raise ApiError("MISSING_API_KEY", "Send your API key in the x-api-key header.")
    # Looked up by hash: the comparison happens on a digest, never on the secret itself.
    row = session.execute(
        select(ApiKey, Account)
        .join(Account, Account.id == ApiKey.account_id)
        .where(ApiKey.key_hash == hash_key(api_key))
    ).first()
    if row is None or not api_key.startswith("gk_"):
        raise ApiError("INVALID_API_KEY", "The API key is not valid.")
    key, account = row
    if key.revoked_at is not None or account.disabled:
        raise ApiError("INVALID_API_KEY", "The API key is not valid.")
    return Caller(
        account_id=account.id,
        live=key.live,
        rate_limit_per_minute=account.rate_limit_per_minute,
        retention_days=account.retention_days,
        scope=key.scope,
    )


def set_disabled(session: Session, account_id: str, disabled: bool) -> None:
    """Disable an account (its keys answer INVALID_API_KEY, its data stays) or enable it again."""
    get_account(session, account_id).disabled = disabled


def _move_credits(
    session: Session,
    now: datetime,
    account_id: str,
    delta: int,
    reason: str,
    generation_id: str | None = None,
    ceiling: int | None = None,
) -> int:
    # One conditional UPDATE: concurrent calls can never take the balance below zero (nor, with
    # a ``ceiling``, above it).
    conditions = [Account.id == account_id, Account.credit_balance + delta >= 0]
    if ceiling is not None:
        conditions.append(Account.credit_balance + delta <= ceiling)
    result = session.execute(
        update(Account)
        .where(*conditions)
        .values(credit_balance=Account.credit_balance + delta)
        .returning(Account.credit_balance)
    ).first()
    if result is None:
        raise ApiError("INSUFFICIENT_CREDITS", "Not enough credits for this call.")
    balance = int(result[0])
    session.add(
        CreditMovement(
            account_id=account_id,
            delta=delta,
            reason=reason,
            generation_id=generation_id,
            balance_after=balance,
            created_at=now,
        )
    )
    return balance


def grant_credits(session: Session, now: datetime, account_id: str, amount: int) -> int:
    """Add ``amount`` credits (negative: take back); returns the new balance.

    A grant is at most MAX_CREDITS either way, and a positive one may not take the balance above
    MAX_CREDITS; taking back is always allowed down to zero.
    """
    if amount == 0:
        raise AdminError("grant a non-zero number of credits")
    if abs(amount) > MAX_CREDITS:
        raise AdminError(f"a grant can be at most {MAX_CREDITS:,} credits either way")
    get_account(session, account_id)
    try:
        return _move_credits(
            session, now, account_id, amount, "grant", ceiling=MAX_CREDITS if amount > 0 else None
        )
    except ApiError as exc:
        if amount > 0:
            current = credit_balance(session, account_id)
            raise AdminError(
                f"the balance can be at most {MAX_CREDITS:,} credits; it is {current:,}"
            ) from exc
        raise AdminError("the balance cannot go below zero") from exc


def reserve_credit(session: Session, now: datetime, account_id: str, generation_id: str) -> None:
    """Take one credit for an accepted generation (402 when the balance is below 1)."""
    _move_credits(session, now, account_id, -1, "reserve", generation_id)


def refund_credit(session: Session, now: datetime, account_id: str, generation_id: str) -> None:
    _move_credits(session, now, account_id, 1, "refund", generation_id)


def credit_balance(session: Session, account_id: str) -> int:
    return int(session.scalar(select(Account.credit_balance).where(Account.id == account_id)) or 0)


def set_logo(session: Session, account_id: str, key: str | None) -> str | None:
    """Point the account at a new logo object; returns the previous key (to delete)."""
    account = get_account(session, account_id)
    previous = account.logo_key
    account.logo_key = key
    return previous
