"""Contests: one task done by several agents at once, and the committee's vote for the best entry.

- `records.py`: the only writer of the `contest` and `contest_entry` tables, with their audit events.
- `desk.py`: setting a task's contest, reading it, an entry's diff, the cost before it is spent.
- `run.py`: the scheduler's side: the entries run at once, each stored as it ends; the vote; the winner.
- `repository.py`: entries in a project linked to a repository (a worktree and branch each, gated).
- `entries.py`: an entry's diff or Markdown result, and the detail each voter reads of it.
- `vote.py`: the entries put to the committee as a decision, and the wait for a tie-break.
- `cleanup.py`: the losing entries' worktrees and branches, removed once the winner merged.
- `view.py`, `marks.py`: what screens and commands read (frozen data; the Board's card marks).
- `host.py`: what a contest uses of the scheduler that runs it.
"""
