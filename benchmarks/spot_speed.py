"""Time SPOT and DSPOT's ``predict`` against libspot (the authors' library) on the same series.

Run from the repository root (about half a minute on 2 cores)::

    PYTHONPATH=$PWD python benchmarks/spot_speed.py            # 100,000 scores
    PYTHONPATH=$PWD python benchmarks/spot_speed.py --n 20000  # a quick look

Three series after a calibration of 10,000 exponential scores (risk 1e-3, init_level 0.98,
500 peaks kept): stationary exponential scores; the same with a level that drifts upward by
3 (almost every score becomes a peak: SPOT's worst case for time); and DSPOT (depth 10) on
the drifting series. For each: seconds of ``predict``, seconds per 10,000 scores, and
for SPOT the same series through ``libspot.Spot`` (``step`` per score, libspot's own
initial threshold) with the largest relative difference of the thresholds. The
measured table is in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sadlib.thresholds import DSPOTThreshold, SPOTThreshold


def _libspot(cal: np.ndarray, live: np.ndarray) -> tuple[float, np.ndarray] | None:
    try:
        import libspot
    except ImportError:
        return None
    spot = libspot.Spot(q=1e-3, level=0.98, max_excess=500)
    spot.fit(cal)
    out = np.empty(live.size)
    t0 = time.perf_counter()
    for i, v in enumerate(live.tolist()):
        out[i] = spot.anomaly_threshold
        spot.step(v)
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="scores after the calibration (default 100,000)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cal = rng.exponential(size=10_000)
    stationary = rng.exponential(size=args.n)
    drifting = rng.exponential(size=args.n) + np.linspace(0.0, 3.0, args.n)
    rows = []
    for name, make, live in [("SPOT, stationary", SPOTThreshold, stationary),
                             ("SPOT, drifting", SPOTThreshold, drifting),
                             ("DSPOT, drifting", lambda **kw: DSPOTThreshold(depth=10, **kw), drifting)]:
        thr = make(risk=1e-3, init_level=0.98, max_peaks=500).fit(cal)
        t0 = time.perf_counter()
        ours = thr.thresholds(live)
        took = time.perf_counter() - t0
        row = [name, f"{took:.2f}", f"{took * 10_000 / live.size:.3f}", "", "", ""]
        if name.startswith("SPOT") and (lib := _libspot(cal, live)) is not None:
            lib_took, lib_thr = lib
            row[3:] = [f"{lib_took:.2f}", f"{lib_took * 10_000 / live.size:.4f}",
                       f"{np.max(np.abs(ours / lib_thr - 1)):.2%}"]
        rows.append(row)
    head = ["series", "sadlib s", "sadlib s / 10k", "libspot s", "libspot s / 10k", "max threshold diff"]
    print(f"{args.n:,} scores after 10,000 calibration scores")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
