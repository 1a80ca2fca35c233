"""Carrying out the plan: the scheduler, the task writes (the only writer of task.status), leases,
selection, review and recovery.
"""
