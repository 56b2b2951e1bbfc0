"""Write a simulated year to files, byte for byte the same for the same result.

:func:`write_outputs` writes into ``out_dir``:

* ``summary.json``: the summary, keys sorted, indent 2, NaN and infinities as ``null``;
* ``ledger.csv`` and ``ledger.parquet``: one row per ledger entry (leg), in posting order:
  period, participant, counterparty, category, amount_yuan (signed, participant's view:
  exactly two decimals in the CSV, from the integer fen), memo, unit (empty / null when none);
* ``hourly``, ``units``, ``monthly``, ``failures``: the hourly columns, the per-unit and
  per-month tables and the failures log, each as ``.csv`` and ``.parquet`` holding the same
  rows (:data:`TABLES`);
* ``capacity_offers`` (unit_id, mw, price_yuan_per_kw_yr, imputed, accepted_mw) and
  ``capacity_demand`` (the resolved demand curve: point, mw, price_yuan_per_kw_yr), as
  ``.csv`` and ``.parquet`` (no rows without a capacity market);
* ``capacity.json``: offers, demand points, price and cleared MW (``null`` without a capacity
  market).

The hourly table: ``load_mw`` is demand as bid, ``served_load_mw`` what loads bought (the
loads' energy cost is the sum of price x served load), ``unserved_mw`` inelastic demand not
served, ``curtailed_mw`` wind and solar available but not dispatched, ``co2_t`` emissions.

Coal compensation, the same in every file: gross = offset + deducted + paid, each >= 0.

* ``summary.json`` ``compensation``: ``gross_yuan`` the payments due to eligible units before
  anything (standard x ratio x declared MW / 12 a month); ``offset_yuan`` the part of it that
  their capacity-market payments replace (``compensation.offset = "capacity_payment"``; 0 with
  ``"none"``); ``deducted_yuan`` what failure deductions took from what was left (0 when the
  offset took everything); ``paid_yuan`` the net, the only compensation money posted;
  ``deductions_due_yuan`` what the deduction table asks for the failures, moved or not;
  ``failures``, ``calls``, ``failed_calls``, ``units_eligible``, ``units_lost_eligibility``
  counts.
* ``ledger.csv``: one ``compensation`` entry per unit and month with a net payment, and its
  funding (``cost_allocation``); no entry where no money moves.
* ``units.csv`` ``compensation_yuan``: the unit's net payment over the year (the ledger's).
* ``monthly.csv``: ``compensation_gross_yuan``, ``_offset_yuan``, ``_deducted_yuan``,
  ``_paid_yuan`` and ``_deductions_due_yuan`` by month.
* ``failures.csv``: per unit and month with failures, the failures, the table's ``fraction``,
  ``deduction_due_yuan`` (the would-be deduction) and the month's gross, offset, deducted and
  paid amounts.

Determinism: no timestamps in any file; CSV floats in fixed formats chosen by the column's
unit (:func:`studies.year.tables.decimals_for`: ``_yuan`` 2 decimals, ``_mw``/``_mwh``/``_t``
3, per-unit figures 4, others 6; NaN empty),
``\\n`` line ends; parquet written by pyarrow with fixed options (zstd, no dictionary
encoding, statistics on, format 2.6).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from clearing.jsonable import jsonable
from studies.year.run import YearResult
from studies.year.tables import decimals_for

TABLES = ("hourly", "units", "monthly", "failures", "capacity_offers", "capacity_demand")
"""Tables written both as CSV and as Parquet (besides the ledger)."""
FILES = ("summary.json", "ledger.csv", "ledger.parquet",
         *(f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")), "capacity.json")
LEDGER_COLUMNS = ("period", "participant", "counterparty", "category", "amount_yuan", "memo",
                  "unit")
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "use_dictionary": False,
                                   "write_statistics": True, "version": "2.6"}


def json_text(value: Any) -> str:
    """Deterministic JSON: sorted keys, indent 2, a final newline."""
    return json.dumps(jsonable(value), sort_keys=True, indent=2, allow_nan=False,
                      ensure_ascii=False) + "\n"


def _float_format(name: str) -> str:
    decimals = decimals_for(name)
    return f"{{:.{6 if decimals is None else decimals}f}}"


def _column_text(name: str, values: np.ndarray) -> list[str]:
    arr = np.asarray(values)
    if arr.dtype.kind == "b":
        return ["true" if v else "false" for v in arr.tolist()]
    if arr.dtype.kind in "iu":
        return [str(v) for v in arr.tolist()]
    if arr.dtype.kind == "f":
        fmt = _float_format(name)
        # + 0.0 writes a negative zero as 0.
        return ["" if not math.isfinite(v) else fmt.format(v + 0.0) for v in arr.tolist()]
    return ["" if v is None else str(v) for v in arr.tolist()]


def csv_text(columns: Mapping[str, Any]) -> str:
    """A table of equal-length columns as CSV text (header first, ``\\n`` line ends)."""
    names = list(columns)
    texts = [_column_text(n, np.asarray(columns[n])) for n in names]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(zip(*texts, strict=True))
    return out.getvalue()


def fen_text(fen: np.ndarray) -> list[str]:
    """Signed int fen as exact yuan with two decimals (``-12.05``)."""
    out = []
    for f in np.asarray(fen, dtype=np.int64).tolist():
        sign = "-" if f < 0 else ""
        whole, cents = divmod(abs(f), 100)
        out.append(f"{sign}{whole}.{cents:02d}")
    return out


def ledger_columns(result: YearResult) -> dict[str, np.ndarray]:
    """The ledger's entries as columns (``amount_fen`` kept for exact text)."""
    cols = result.ledger.columns()
    return {"period": cols["period"], "participant": cols["participant"],
            "counterparty": cols["counterparty"], "category": cols["category"],
            "amount_fen": cols["amount_fen"], "memo": cols["memo"], "unit": cols["unit"]}


def _write_parquet(path: Path, columns: Mapping[str, Any]) -> None:
    arrays, names = [], []
    for name, values in columns.items():
        arr = np.asarray(values)
        if arr.dtype.kind in "OU":
            arrays.append(pa.array([None if v is None else str(v) for v in arr.tolist()],
                                   type=pa.string()))
        else:
            arrays.append(pa.array(arr))
        names.append(name)
    pq.write_table(pa.Table.from_arrays(arrays, names=names), path, **PARQUET_OPTIONS)


def _write_text(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))


def write_outputs(result: YearResult, out_dir: str | Path) -> Path:
    """Write every file of the module docstring into ``out_dir`` (created); returns it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _write_text(out / "summary.json", json_text(result.summary))
    led = ledger_columns(result)
    texts = [fen_text(led["amount_fen"]) if k == "amount_yuan" else _column_text(k, led[k])
             for k in LEDGER_COLUMNS]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(LEDGER_COLUMNS)
    writer.writerows(zip(*texts, strict=True))
    _write_text(out / "ledger.csv", buf.getvalue())
    _write_parquet(out / "ledger.parquet", {
        **{k: led[k] for k in LEDGER_COLUMNS[:4]},
        "amount_yuan": led["amount_fen"] / 100.0, "memo": led["memo"], "unit": led["unit"]})
    offers, demand = capacity_tables(result.capacity)
    tables = {"hourly": result.hourly, "units": result.units, "monthly": result.monthly,
              "failures": result.failures, "capacity_offers": offers,
              "capacity_demand": demand}
    for name in TABLES:
        _write_text(out / f"{name}.csv", csv_text(tables[name]))
        _write_parquet(out / f"{name}.parquet", tables[name])
    _write_text(out / "capacity.json", json_text(result.capacity))
    return out


def capacity_tables(record: Mapping[str, Any] | None
                    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(offers, demand curve) columns of the year's capacity record (no rows without one)."""
    if record is None:
        offers = {"unit_id": np.array([], dtype=str), "mw": np.array([], dtype=np.float64),
                  "price_yuan_per_kw_yr": np.array([], dtype=np.float64),
                  "imputed": np.array([], dtype=bool),
                  "accepted_mw": np.array([], dtype=np.float64)}
        points: list[list[float]] = []
    else:
        offers = {k: np.asarray(v) for k, v in record["offers"].items()}
        points = record["demand_points"]
    demand = {"point": np.arange(len(points), dtype=np.int64),
              "mw": np.array([q for q, _ in points], dtype=np.float64),
              "price_yuan_per_kw_yr": np.array([p for _, p in points], dtype=np.float64)}
    return offers, demand
