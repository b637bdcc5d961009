"""One router per resource; `create_app` mounts them (all under `/v1` except health)."""
