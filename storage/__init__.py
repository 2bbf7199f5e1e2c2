"""Persistence: SQLModel tables, migrations, repositories and the unit of work.

May import core/ and nothing else of ours.
"""
