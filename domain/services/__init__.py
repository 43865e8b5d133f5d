"""Use cases over the ports: relaying messages and counting tokens."""
