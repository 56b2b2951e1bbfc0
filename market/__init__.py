"""The markets of the Mengxi sandbox, one implementation each, called by every driver (the
game session, the simulated year):

* ``market.rules`` -- frozen rule models loaded from TOML presets and variants;
* ``market.energy`` -- the hourly spot market, storage, and their settlement;
* ``market.capacity`` -- the pilot capacity market: demand, accreditation, formats,
  performance, settlement;
* ``market.compensation`` -- capacity compensation of coal units that firm up renewables;
* ``market.green`` and ``market.certificates`` -- green trading and the certificate registry;
* ``market.ledger`` -- the double-entry ledger in exact fen;
* ``market.session`` -- the game: set-up, plan, rounds, bids, results, state.

>>> from market.rules import load_preset
>>> rules = load_preset("mengxi")
>>> rules.energy.price_cap_yuan_per_mwh, rules.energy.price_floor_yuan_per_mwh
(1500.0, -50.0)
"""
