"""The names of the consensus methods, importable without the tally machinery.

Config validation and the start-up path need only the names; the consensus package,
with its exact Fraction arithmetic, is imported when a tally is counted.
"""

from __future__ import annotations

METHODS: tuple[str, ...] = (
    "unanimous",
    "supermajority",
    "majority",
    "plurality",
    "ranked_choice",
    "weighted",
    "borda",
    "condorcet",
)
