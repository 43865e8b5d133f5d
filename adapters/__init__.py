"""Adapters: the HTTP surface for Claude Code, the AI Nexus client and the config file."""
