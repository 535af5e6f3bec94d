"""`kg build`: parse, infer, validate and publish a store; dump and restore."""
