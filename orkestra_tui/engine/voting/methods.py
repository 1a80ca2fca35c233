"""The names of the consensus methods, importable without the tally machinery.

They are defined in `orkestra_tui.consensus_methods`, below the config that
validates `default_method` with them; the engine's modules import them from here.
"""

from __future__ import annotations

from orkestra_tui.consensus_methods import METHODS

__all__ = ["METHODS"]
