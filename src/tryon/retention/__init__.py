"""Retention: the sweeper that deletes what has expired."""
