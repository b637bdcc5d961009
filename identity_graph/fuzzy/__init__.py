"""Fuzzy matching: weighted `fuzzy:<rule>` links between records whose PII is similar.

- `rules`: the rule format (TOML), parsed into frozen dataclasses.
- `normalize`: per-field normalization (case, accents, punctuation, nicknames, dates).
- `blocking`: candidate pairs from blocking keys, each pair once (a < b).
- `compare`: vectorised field comparisons (rapidfuzz `cpdist`) into agreement levels.
- `fellegi_sunter`: the match model (m/u by EM, u from random pairs) and link probabilities.
- `pipeline`: full pass over the store and incremental matching of new records.
"""
