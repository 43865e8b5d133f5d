"""The inbound side: Falcon resources, middleware, wire JSON and SSE for the Anthropic API."""
