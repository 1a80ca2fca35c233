"""The work lands in a git repository: what a task's agent reads and writes there, and how it is checked.

- `edits`: a model's answer as file changes (whole files, exact search/replace edits, deletions),
  applied to a task's worktree under the path rules, each refusal returned as data.
- `protect`: the `protect` globs of `.orkestra.toml` (and the always-protected `.orkestra.toml`).
- `context`: the repository as context for a task's prompt, within a token budget.
- `gates`: running the gate commands in a worktree, with a timeout and without the agents' keys.
- `repo_settings`: reading and validating the repository's `.orkestra.toml`.
"""
