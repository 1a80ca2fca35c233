"""The names of the consensus methods, importable without the tally machinery.

Config validation needs them as much as the engine does, so they sit below
both: `orkestra_tui.config_reader` checks `default_method` against them
without importing the engine, and `orkestra_tui.engine.voting.methods` hands them to
the engine. The consensus package, with its exact Fraction arithmetic, is
imported when a tally is counted.
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
