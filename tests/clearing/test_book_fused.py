"""The fused intake (clearing/kernels/validate.py) accepts and refuses exactly what the old
NumPy validation did (kept as clearing.reference.book.reference_book): the same book arrays,
or the same error with the same problems (row, reason, line, source) in the same order."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearing import OrderBook, OrderBookError
from clearing.kernels import validate as kv
from clearing.reference.book import reference_book

NASTY_FLOATS = [math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -0.0, 0.0,
                2.0**52 / 100, 2.0**52 / 1000, 2.0**53, 1e16, -1e16, 2.0**60 * 0.01,
                10.005, 1.0005, 0.1 + 0.2, 1e-7, 45035996273704.95]


def outcome(build):
    """('ok', arrays) or ('refused', problems) or ('raised', type, message)."""
    try:
        got = build()
    except OrderBookError as err:
        return ("refused", [(p.row, p.reason, p.line, p.source) for p in err.problems],
                str(err))
    except Exception as err:  # noqa: BLE001 - the old path's other errors must match too
        return ("raised", type(err).__name__, str(err))
    if isinstance(got, OrderBook):
        got = (got.ids, got.sides, got.price_ticks, got.quantity_ticks, got.sequence)
    ids, sides, pt, qt, seq = got
    return ("ok", ids.dtype.kind, repr(ids.tolist()), sides.dtype.str, sides.tolist(),
            pt.dtype.str, pt.tolist(), qt.dtype.str, qt.tolist(), seq.dtype.str, seq.tolist())


def same(*args, **kwargs):
    new = outcome(lambda: OrderBook.from_arrays(*args, **kwargs))
    old = outcome(lambda: reference_book(*args, **kwargs))
    assert new == old
    return new


def floats(tick: float):
    on_grid = st.integers(-10**7, 10**7).map(lambda k: k * tick)
    return st.one_of(on_grid, on_grid, st.sampled_from(NASTY_FLOATS),
                     st.floats(allow_nan=True, allow_infinity=True),
                     st.integers(-(2**60), 2**60).map(lambda k: k * tick))


def column(draw, n, tick, kind):
    values = draw(st.lists(floats(tick), min_size=n, max_size=n))
    if kind == "float64":
        return np.array(values, dtype=np.float64)
    if kind == "float32":
        with np.errstate(over="ignore"):
            return np.array(values, dtype=np.float32)
    if kind == "int64":
        return np.array([int(v) if math.isfinite(v) and abs(v) < 2**62 else 7 for v in values],
                        dtype=np.int64)
    # None and "" are refused as missing now, where the old path let them through as tick 0:
    # tests/clearing/test_book_missing.py compares those books with the reference.
    extras = st.sampled_from(["abc", " 1.5 ", "nan", "-inf", "1e400", True, "2.00",
                              3, np.float64(4.25), np.int32(-2)])
    mixed = [draw(st.one_of(st.just(v), extras)) for v in values]
    if kind == "str":
        return np.array([str(v) for v in mixed])
    return np.array(mixed, dtype=object)


@st.composite
def raw_books(draw):
    n = draw(st.integers(0, 12))
    side_kind = draw(st.sampled_from(["int8", "int64", "float64", "int32", "uint8", "bool",
                                      "str", "object"]))
    side_pool = {"int8": [1, -1, 1, -1, 0, 2], "int64": [1, -1, 1, -1, 3],
                 "float64": [1.0, -1.0, 1.0, math.nan, 0.5], "int32": [1, -1, -1, 0],
                 "uint8": [1, 1, 255, 0], "bool": [True, False],
                 "str": ["buy", "sell", " BUY ", "Sell", "hold", ""],
                 "object": ["buy", "sell", 1, -1, 1.0, True, None, np.int8(-1), "x"]}[side_kind]
    side_vals = draw(st.lists(st.sampled_from(side_pool), min_size=n, max_size=n))
    dtype = None if side_kind in ("str", "object") else side_kind
    if side_kind == "object":
        sides = np.empty(n, dtype=object)
        sides[:] = side_vals
    else:
        sides = np.array(side_vals, dtype=dtype)

    id_kind = draw(st.sampled_from(["range", "int", "sparse", "uint64", "str", "object_str",
                                    "mixed", "float"]))
    if id_kind == "range":
        ids = np.arange(n) + draw(st.integers(-5, 5))
    elif id_kind == "int":
        ids = np.array(draw(st.lists(st.integers(-3, 8), min_size=n, max_size=n)),
                       dtype=np.int64)
    elif id_kind == "sparse":
        pool = st.sampled_from([-(2**63), 2**63 - 1, 0, 2**40, -(2**40), 12345678901, 7 << 32])
        ids = np.array(draw(st.lists(pool, min_size=n, max_size=n)), dtype=np.int64)
    elif id_kind == "uint64":
        pool = st.sampled_from([0, 1, 2**64 - 1, 2**63, 2**63 - 1])
        ids = np.array(draw(st.lists(pool, min_size=n, max_size=n)), dtype=np.uint64)
    elif id_kind == "str":
        ids = np.array(draw(st.lists(st.sampled_from(["a", "b", "c", "a ", ""]),
                                     min_size=n, max_size=n)))
    elif id_kind == "object_str":
        ids = np.empty(n, dtype=object)
        ids[:] = draw(st.lists(st.sampled_from(["o1", "o2", "o3", "o4"]), min_size=n,
                               max_size=n))
    elif id_kind == "mixed":
        ids = np.empty(n, dtype=object)
        ids[:] = draw(st.lists(st.sampled_from([1, "1", 2, "x", 1.0, True, math.nan, None]),
                               min_size=n, max_size=n))
    else:
        ids = np.array(draw(st.lists(st.sampled_from([0.0, -0.0, 1.5, math.nan, math.inf]),
                                     min_size=n, max_size=n)), dtype=np.float64)

    price_kind = draw(st.sampled_from(["float64", "float64", "float32", "int64", "object",
                                       "str"]))
    qty_kind = draw(st.sampled_from(["float64", "float64", "float32", "int64", "object",
                                     "str"]))
    price_tick = draw(st.sampled_from([0.01, 0.01, 0.05, 1.0, 0.3]))
    quantity_tick = draw(st.sampled_from([0.001, 0.001, 0.1, 1.0]))
    prices = column(draw, n, price_tick, price_kind)
    qtys = column(draw, n, quantity_tick, qty_kind)

    kwargs = {"price_tick": price_tick, "quantity_tick": quantity_tick}
    limit = st.one_of(st.none(), st.none(), st.sampled_from(
        [0.0, 100.0, -50, 1500, math.inf, math.nan, np.float32(2.5), 1e308, 2**70]),
        st.floats(-1e5, 1e5))
    kwargs["price_cap"] = draw(limit)
    kwargs["price_floor"] = draw(limit)
    if draw(st.booleans()):
        kwargs["sequence"] = draw(st.lists(st.integers(0, n + 2), min_size=n, max_size=n))
    if draw(st.booleans()):
        kwargs["lines"] = [2 + 3 * i for i in range(n)]
        kwargs["source"] = "book.csv"
    return ids, sides, prices, qtys, kwargs


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_books())
def test_fused_intake_accepts_and_refuses_as_the_reference(book):
    ids, sides, prices, qtys, kwargs = book
    same(ids, sides, prices, qtys, **kwargs)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([1, -1, 0]), floats(0.01), floats(0.001)),
                max_size=30),
       st.one_of(st.none(), st.floats(-1e4, 1e4)), st.one_of(st.none(), st.floats(-1e4, 1e4)))
def test_fused_codes_count_the_bad_rows(rows, cap, floor):
    """The fast pass counts exactly the rows the problem-code pass flags, and its ticks are
    clearing.grid.to_ticks'."""
    from clearing.grid import to_ticks

    sides = np.array([r[0] for r in rows], dtype=np.int8)
    prices = np.array([r[1] for r in rows], dtype=np.float64)
    qtys = np.array([r[2] for r in rows], dtype=np.float64)
    args = (sides, prices, qtys, 0.01, 0.001, cap is not None, cap or 0.0, floor is not None,
            floor or 0.0)
    n_bad, _, side_codes, pt, qt = kv.validate_rows(*args)
    codes = kv.problem_codes(*args)
    assert n_bad == int(np.count_nonzero(codes))
    assert np.array_equal(pt, to_ticks(prices, 0.01)[0])
    assert np.array_equal(qt, to_ticks(qtys, 0.001)[0])
    assert np.array_equal(side_codes, np.where(np.isin(sides, (1, -1)), sides, 0))


@pytest.mark.parametrize("kind", ["sorted", "reversed", "dense", "sparse", "uint64"])
@pytest.mark.parametrize("duplicate", [False, True])
def test_integer_id_paths_agree_on_large_books(kind, duplicate):
    """The sorted check, the dense table and the hash set, each with and without a repeat."""
    n = 3_000
    rng = np.random.default_rng(7)
    ids = {"sorted": np.arange(n) * 3, "reversed": np.arange(n)[::-1].copy(),
           "dense": rng.permutation(n) - 1_000,
           "sparse": rng.permutation(n).astype(np.int64) * 1_000_003 - 2**62,
           "uint64": rng.permutation(n).astype(np.uint64) + np.uint64(2**63)}[kind]
    if duplicate:
        ids[2_500] = ids[17]
    sides = np.where(np.arange(n) % 2 == 0, 1, -1)
    prices = rng.integers(0, 10_000, n) / 100
    qtys = rng.integers(1, 10_000, n) / 1000
    result = same(ids, sides, prices, qtys)
    assert result[0] == ("refused" if duplicate else "ok")
    assert bool(kv.unique_ints(ids.view(np.int64) if ids.dtype == np.uint64 else ids)) == (
        not duplicate)


def test_hash_set_with_colliding_ids():
    """Ids that share their low bits (multiples of 2**32) still tell apart in the hash set."""
    ids = (np.arange(5_000, dtype=np.int64) << 32) | 5
    np.random.default_rng(1).shuffle(ids)
    assert kv.unique_ints(ids)
    ids[4_000] = ids[3]
    assert not kv.unique_ints(ids)


@pytest.mark.parametrize("rows", [1_023, 1_024, 1_025, 2_000])
def test_total_too_large_as_before(rows):
    """A book whose total quantity nears 2**62 ticks: the fused pass defers to the same
    float64 sum, so the boundary falls where it did."""
    ticks = 2**52 - 1
    qtys = np.full(rows, ticks / 1000)
    result = same(np.arange(rows), np.ones(rows, dtype=np.int8), np.full(rows, 10.0), qtys)
    assert result[0] == ("ok" if rows <= 1_024 else "refused")  # 1,024 rows: 2**62 - 1,024


def test_problems_listed_as_before_for_a_file():
    """Row problems of every kind with file lines, sorted by line, the same text."""
    ids = np.array(["a", "b", "c", "a", "d", "e", "f"], dtype=object)
    sides = np.array(["buy", "hold", "sell", "sell", "buy", "buy", "sell"], dtype=object)
    prices = np.array(["1e308", "nan", "10.005", "7", "inf", "1600", "x"], dtype=object)
    qtys = np.array(["1", "0", "-0.0", "1.0005", "nan", "2", "1e"], dtype=object)  # "": missing
    result = same(ids, sides, prices, qtys, lines=[2, 3, 5, 8, 9, 10, 11], source="f.csv",
                  price_cap=1500, price_floor=-50)
    assert result[0] == "refused"
    assert ("duplicate id 'a' (first used on line 2)") in [r[1] for r in result[1]]


# ------------------------------------------------------------------ the compiled CSV reader

CELLS = {
    "id": ["o1", "o2", "7", "a b", "x", "o1 ", " y", "", "é", 'q"'],
    "side": ["buy", "sell", "BUY", "Sell", "sElL", " buy", "hold", "", "buy\t"],
    "price": ["10", "10.5", "-3.25", "+7", ".5", "5.", "0", "-0", "10.005", "1e2", "nan",
              "inf", "1e308", "123456789012345", "1234567890123456", "0.000000000000001",
              "1_0", "", " 4", "45035996273704.95", "x"],
    "quantity": ["1", "0.001", "2.5", "100", "0", "-1", "1.0005", "1e3", "", "007.25",
                 "99999999999.999", "0.1"],
}


@st.composite
def csv_texts(draw):
    plain = draw(st.booleans())
    n = draw(st.integers(0, 8))
    rows = []
    for i in range(n):
        if plain:  # mostly cells the compiled reader takes
            cells = [f"o{i}", draw(st.sampled_from(["buy", "sell", "BUY", "Sell"])),
                     draw(st.sampled_from(CELLS["price"][:9])),
                     draw(st.sampled_from(CELLS["quantity"][:4] + ["007.25", "0.1"]))]
        else:
            cells = [draw(st.sampled_from(CELLS[f])) for f in CELLS]
            if draw(st.integers(0, 9)) == 0:
                cells = cells[:draw(st.integers(0, 3))]
        rows.append(",".join(cells))
    if not plain and draw(st.booleans()) and rows:
        rows.insert(draw(st.integers(0, len(rows))), draw(st.sampled_from(["", "  ", ",,,"])))
    header = draw(st.sampled_from(["id,side,price,quantity"] * 4 + [" id,side,price,quantity",
                                                                   "id,side,price"]))
    end = draw(st.sampled_from(["\n", ""]))
    return header + "\n" + "\n".join(rows) + end


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(csv_texts(), st.sampled_from([{}, {"price_cap": 100}, {"price_tick": 0.5}]))
def test_compiled_csv_reader_reads_as_the_line_reader(tmp_path, monkeypatch, text, kwargs):
    import clearing.book as book_module

    path = tmp_path / "book.csv"
    path.write_text(text, encoding="utf-8")
    fast = outcome(lambda: OrderBook.from_csv(path, **kwargs))
    with monkeypatch.context() as m:
        m.setattr(book_module, "_plain_csv", lambda cls, p, kw: None)
        slow = outcome(lambda: OrderBook.from_csv(path, **kwargs))
    assert fast == slow


def test_compiled_csv_reader_takes_plain_files(tmp_path):
    import clearing.book as book_module

    b = OrderBook.from_arrays([f"o{i}" for i in range(50)], [1, -1] * 25,
                              np.arange(50) * 1.25 - 20, np.arange(1, 51) / 8)
    path = tmp_path / "plain.csv"
    b.to_csv(path)
    fast = book_module._plain_csv(OrderBook, path, {})
    assert fast is not None
    assert fast.to_csv() == b.to_csv()
    assert fast.ids.dtype == object and list(fast.ids) == list(b.ids)
    path.write_text(b.to_csv().replace("o7,", "o3,"))  # a duplicate id: the slow way says where
    assert book_module._plain_csv(OrderBook, path, {}) is None
    with pytest.raises(OrderBookError, match="line 9: duplicate id 'o3' .first used on line 5"):
        OrderBook.from_csv(path)


@pytest.mark.parametrize("arrow", [True, False])
def test_compiled_csv_ids_are_the_same_str_either_way(tmp_path, monkeypatch, arrow):
    """Large files take their ids through Arrow, small ones through NumPy: both give the line
    reader's str ids (widths 1 to 40, printable ASCII with spaces and punctuation)."""
    import clearing.book as book_module

    ids = [f"o{i}" for i in range(40)] + ["x", "A b-c_d.e:f/g", "~" * 40, "q!#"]
    b = OrderBook.from_arrays(ids, [1, -1] * (len(ids) // 2), np.arange(len(ids)) * 0.5,
                              np.ones(len(ids)))
    path = tmp_path / "ids.csv"
    b.to_csv(path)
    monkeypatch.setattr(book_module, "ARROW_IDS_MIN_ROWS", 0 if arrow else 10**9)
    fast = book_module._plain_csv(OrderBook, path, {})
    assert fast is not None
    assert fast.ids.dtype == object and list(fast.ids) == ids
    assert all(type(i) is str for i in fast.ids)
    assert fast.to_csv() == b.to_csv()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 60).map(str),
                          st.integers(0, 10**19).map(str),
                          st.sampled_from(["0", "00", "007", "7", "-1", "1e3", "x", "o1"])),
                max_size=30))
def test_unique_spans_finds_every_duplicate(ids):
    """The compiled duplicate check (integer ids by marks, the rest by hashing, leading zeros
    and 19-digit numbers kept apart from their values) agrees with a Python set."""
    import clearing.kernels.csvscan as ks

    text = ",".join(ids).encode()
    buf = np.frombuffer(text, dtype=np.uint8) if text else np.zeros(0, np.uint8)
    starts, pos = [], 0
    for i in ids:
        starts.append(pos)
        pos += len(i) + 1
    start = np.array(starts, dtype=np.int64)
    end = start + np.array([len(i) for i in ids], dtype=np.int64)
    assert ks.unique_spans(buf, start, end) == (len(set(ids)) == len(ids))


def test_compiled_csv_ids_without_pyarrow_take_the_numpy_way(tmp_path, monkeypatch):
    """pyarrow is optional to the clearing core: absent, a large file's ids are made by NumPy."""
    import sys

    import clearing.book as book_module

    ids = [f"id-{i}" for i in range(30)]
    b = OrderBook.from_arrays(ids, [1, -1] * 15, np.arange(30) * 0.5, np.ones(30))
    path = tmp_path / "ids.csv"
    b.to_csv(path)
    monkeypatch.setattr(book_module, "ARROW_IDS_MIN_ROWS", 0)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    fast = book_module._plain_csv(OrderBook, path, {})
    assert fast is not None and list(fast.ids) == ids
