"""Planning: from a project brief to an approved task graph, with the graph's checks and the plan's
guard.
"""
