"""Customers: right to erasure, with audit receipts."""
