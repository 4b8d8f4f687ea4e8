"""Accounts (tenants), API keys, the credit ledger, authentication and rate limiting."""
