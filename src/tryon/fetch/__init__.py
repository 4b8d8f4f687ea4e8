"""The one way the server downloads a URL."""
