"""Tryon: self-hosted virtual try-on API server."""

__version__ = "0.1.0"
