"""Orkestra: a committee of LLM agents that plans, votes on and carries out a project."""

from __future__ import annotations

__version__ = "0.1.0"
