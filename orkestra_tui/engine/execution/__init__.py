"""Carrying out the plan: the scheduler, the task writes (the only writer of task.status), leases,
selection, review and recovery; `contest/`, a task done by several agents and decided by a vote.
"""
