"""The outbound side: Bedrock Converse over ``requests``, its wire JSON and event stream."""
