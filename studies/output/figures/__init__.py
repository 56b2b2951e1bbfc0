"""The figures of a year's report, one function per figure, each returning a
:class:`matplotlib.figure.Figure` of :data:`~studies.output.figures.canvas.FIGSIZE` inches drawn
with matplotlib's object API (no ``pyplot``). Registered by name and drawn in worker processes
by :mod:`studies.output.plots`.

Modules by subject: :mod:`.prices` (energy prices and the merit order), :mod:`.system`
(dispatch, renewables, storage, reliability, emissions), :mod:`.markets` (capacity auction,
compensation, green certificates), :mod:`.money` (consumer cost, revenues and profit);
:mod:`.canvas` holds what they share (figure size, colours, the money unit, month and
hour-of-day sums).
"""
