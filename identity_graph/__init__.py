"""identity-graph: identity resolution as a graph.

Identifiers are nodes (type + normalized value), observations link them with weighted,
evidenced edges, and constrained clustering turns connected components into golden profiles.
"""

__version__ = "0.1.0"
