"""Measuring the try-on engine: metrics, the person x garment runner and the contact sheet."""
