"""The committee and its decisions: rounds, ballots, deadlocks, mediation, records, and the tallies in
consensus/.
"""
