"""Pure translation of Anthropic requests into Converse requests."""
