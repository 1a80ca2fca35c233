"""Calling agents: one call with its timeout and record, the circuit breaker, retries, health, prompts
and the parsing of answers.
"""
