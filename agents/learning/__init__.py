"""Learning bidders over the one engine (issue 15).

* :mod:`agents.learning.blocks`: the compact action (a markup per offer block) and how it maps
  onto valid offers on the grid; the linear policy over published day features and its
  registered strategy ``policy:PATH``.
* :mod:`agents.learning.env`: :class:`~agents.learning.env.MarketEnv`, a PettingZoo
  ``ParallelEnv`` whose agents are generator owners and whose step is one day of hourly
  energy auctions cleared, settled and paid to a ledger as the in-process year does.
* :mod:`agents.learning.single`: :class:`~agents.learning.single.OwnerEnv`, the single-agent
  Gymnasium wrapper (one learner, everyone else on their registered strategies).
* :mod:`agents.learning.train`: the CMA-ES trainer behind ``mengxi learn``.

This package's ``__init__`` imports nothing, so that the strategy registry can load a policy
(:mod:`agents.learning.blocks`) without the environment and its dependencies.
"""
