"""Pure translation of Converse responses and stream events into Anthropic's."""
