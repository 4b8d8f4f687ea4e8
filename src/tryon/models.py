"""Imports every table so that ``Base.metadata`` is complete (migrations, tests)."""

from tryon.accounts.models import Account, ApiKey, CreditMovement
from tryon.customers.models import ErasureReceipt, PendingDeletion
from tryon.db import Base
from tryon.generations.models import Generation, IdempotencyRecord
from tryon.images.models import CustomerImage
from tryon.products.models import Product, ProductImage

__all__ = [
    "Account",
    "ApiKey",
    "Base",
    "CreditMovement",
    "CustomerImage",
    "ErasureReceipt",
    "Generation",
    "IdempotencyRecord",
    "PendingDeletion",
    "Product",
    "ProductImage",
]
