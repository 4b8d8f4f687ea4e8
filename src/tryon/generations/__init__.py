"""Generations: try-on requests, their status, the background task that runs the engine."""
