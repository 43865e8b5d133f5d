"""The proxy's core: value objects, translation, rules and use cases; only stdlib and attrs."""
