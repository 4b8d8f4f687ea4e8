"""The job queue (Huey) built from settings, and its periodic tasks."""
