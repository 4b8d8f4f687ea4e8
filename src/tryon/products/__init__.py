"""Products: upsert, list, get, delete, and their lifetimes."""
