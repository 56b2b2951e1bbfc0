"""The in-process year's static bid rows: built group by group and merged by hour
(``agents.inprocess.bids.merge_by_hour``), they are exactly the rows of the groups' blocks
padded side by side into one (hours x actors x blocks) array, the way the year built them."""

from __future__ import annotations

import numpy as np

from agents.inprocess.bids import Actors, merge_by_hour, rows_from_blocks


def _actors(n: int) -> Actors:
    names = np.array([f"a{i}" for i in range(n)])
    return Actors(participant=names, unit_id=names, owner=names, label=names,
                  marginal_cost=np.zeros(n), side=np.where(np.arange(n) % 2, 1, -1).astype(np.int8),
                  n_units=n, n_loads=0)


def _padded(blocks, actors, hour0):
    b = max(q.shape[2] for q, _, _ in blocks)
    qty = np.concatenate([np.pad(q, ((0, 0), (0, 0), (0, b - q.shape[2]))) for q, _, _ in blocks],
                         axis=1)
    price = np.concatenate([np.pad(p, ((0, 0), (0, 0), (0, b - p.shape[2])))
                            for _, p, _ in blocks], axis=1)
    actor = np.concatenate([a for _, _, a in blocks]).astype(np.int32)
    hh, aa, bb = np.nonzero(qty > 0)
    who = actor[aa]
    return (hh.astype(np.int64) + hour0, who, price[hh, aa, bb], qty[hh, aa, bb],
            actors.side[who])


def test_merged_groups_equal_the_padded_blocks():
    rng = np.random.default_rng(2)
    for case in range(30):
        h = int(rng.integers(1, 30))
        sizes = [(int(rng.integers(0, 6)), int(rng.integers(1, 4))) for _ in range(
            int(rng.integers(1, 5)))]
        n = sum(u for u, _ in sizes)
        actors = _actors(max(n, 1))
        blocks, first = [], 0
        for u, b in sizes:
            q = rng.integers(0, 3, (h, u, b)) * rng.integers(1, 1000, (h, u, b))
            if case % 4 == 0:  # a broadcast (read-only, strided) block, as the exports give
                q = np.broadcast_to(q[:1], (h, u, b))
            p = rng.integers(-5000, 150000, (h, u, b))
            blocks.append((q, p, np.arange(first, first + u)))
            first += u
        want = _padded(blocks, actors, 0)
        got = merge_by_hour([rows_from_blocks(q, p, a.astype(np.int32), 0, actors)
                             for q, p, a in blocks], h)
        for w, g in zip(want, got, strict=True):
            assert w.dtype == g.dtype and np.array_equal(w, g), case


def test_rows_from_blocks_keeps_the_first_hour():
    actors = _actors(2)
    q = np.array([[[0, 5]], [[7, 0]]])
    rows = rows_from_blocks(q, q * 10, np.array([1]), 100, actors)
    assert rows[0].tolist() == [100, 101] and rows[1].tolist() == [1, 1]
    assert rows[2].tolist() == [50, 70] and rows[3].tolist() == [5, 7]
