"""Bid intake: concurrent batches of one session committed together (group commit).

:mod:`.queue` holds the batches waiting for a session and elects the caller that takes them
(the leader); :mod:`.group` takes a group of batches in one transaction, each with its own
outcome. See ``api/README.md`` ("Concurrent batches").
"""
