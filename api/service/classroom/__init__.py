"""The classroom layer of the game service: what a class needs around the market's rounds.

* :mod:`.profit`: profit as a class counts it (revenue, variable cost, the period's share of
  fixed cost, penalties and compensation, retail revenue), per seat and per round;
* :mod:`.briefing`: each role's briefing, Markdown generated from the game's rules;
* :mod:`.export`: CSV exports for grading (results, bids, ledger);
* :mod:`.deadline`: round deadlines that close the gate (and clear) by themselves.

Pure functions of a live :class:`~market.session.Session` and the session's row, except
:mod:`.deadline`, which schedules the server's own writes.
"""
