"""What Claude and Bedrock accept, and the proxy's own policies, as pure functions."""
