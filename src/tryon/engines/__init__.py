"""Try-on engines: person image + product in, image out. See ``base`` for the interface."""
