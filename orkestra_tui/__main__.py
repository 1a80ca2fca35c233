"""`python -m orkestra_tui` runs the same entry point as `orkestra`."""

from __future__ import annotations

from orkestra_tui.cli import main

raise SystemExit(main())
