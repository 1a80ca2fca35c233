"""The work lands in a git repository: the one module that runs git, and what is built on it.

- `git`: the async runner of the `git` binary (the only module that runs it), `GitError`, the version check.
- `names`: branch names, slugs and the folders under the data dir where Orkestra's worktrees live.
- `status`: what a worktree holds (changed paths, an operation in progress, a clean checkout).
- `link`: linking a repository: its top level, initialising it, the base branch, the integration branch
  and its worktree, and the "repository usable" pre-check.
- `worktrees`: a worktree and branch per task; listing, orphans, safe removal, pruning.
- `commits`: committing a task's change with its trailers, the agent as author and Orkestra as committer.
- `merging`: the conflict pre-check, merging a task into the integration branch and undoing it, "already
  merged?", the counts for `orkestra status`, and landing the integration branch on the user's branch.
- `edits`: a model's answer as file changes (whole files, exact search/replace edits, deletions),
  applied to a task's worktree under the path rules, each refusal returned as data.
- `protect`: the `protect` globs of `.orkestra.toml` (and the always-protected `.orkestra.toml`).
- `context`: the repository as context for a task's prompt, within a token budget.
- `gates`: running the gate commands in a worktree, with a timeout and without the agents' keys.
- `repo_settings`: reading and validating the repository's `.orkestra.toml`.
- `recovery`: at start, the worktrees and task branches no live task owns removed (kept, with the
  reason, when they hold unmerged work), and those deleted by hand forgotten.
"""
