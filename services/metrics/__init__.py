"""Run metrics: what the agents cost, how well they do, and where the review queue is stuck.

Each module holds one family of aggregates: a public ``get_*`` function per aggregate (one unit
of work each) over session-level helpers that ``dashboard`` reuses to build the whole page in one
read transaction.
"""
