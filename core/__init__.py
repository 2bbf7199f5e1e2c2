"""The rules core of kompetensbot: the domain, its rules and its ledger.

Pure Python: no I/O, no ORM, no bot SDK. Money is integer kronor.
"""
