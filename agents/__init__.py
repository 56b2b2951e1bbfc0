"""The synthetic participants: who owns what, what it costs, what the weather does, and how
owners bid.

* ``agents.fleet`` -- a Mengxi-like fleet at any scale (units, owners, costs, loads, exports);
* ``agents.profiles`` and ``agents.outages`` -- seeded hourly load, wind and solar profiles, and
  forced outages of coal units;
* ``agents.strategies`` -- bidding strategies, registered by name, pure functions of an
  observation, the rules and a seeded RNG;
* ``agents.inprocess`` -- the year's runner: every participant's bids as arrays;
* ``agents.http`` -- bots that play a game of the service over HTTP with the same strategies.

>>> from agents.fleet import synthesize_fleet
>>> from market.rules import load_preset
>>> fleet = synthesize_fleet(load_preset("mengxi"), seed=7, scale=0.01)
>>> len(fleet.coal_index) > 0 and len(fleet.load_ids) > 0
True
>>> again = synthesize_fleet(load_preset("mengxi"), seed=7, scale=0.01)  # same seed, same fleet
>>> bool((again.marginal_cost_yuan_per_mwh == fleet.marginal_cost_yuan_per_mwh).all())
True
"""
