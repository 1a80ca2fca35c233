"""Headless subcommands of `orkestra`; each module exposes `register(subparsers)`."""
