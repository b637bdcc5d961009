"""Neo4j query files, one per store method, shipped as package data."""
