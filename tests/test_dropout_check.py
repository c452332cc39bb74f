"""benchmarks/dropout_check.py (notebook 06's dropout test): its recording detector fits as conv_ae does.

The script's ``EvalLossConvAE`` hooks into the detectors' training through ``_callbacks``; when that hook
was renamed the script stopped running without any test noticing. This runs its detector on a tiny series.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras")

from sadlib import detectors  # noqa: E402

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "dropout_check.py"


def _module():
    spec = importlib.util.spec_from_file_location("dropout_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_recording_detector_fits_as_conv_ae_and_records_every_epoch():
    rng = np.random.default_rng(0)
    t = np.arange(240)
    X = np.column_stack([np.sin(t / 7), np.cos(t / 11), 0.1 * rng.normal(size=len(t))]).astype(float)
    settings = dict(dropout=0.2, window=8, epochs=4, patience=10, batch_size=16, calibration=0, random_state=0)
    traced = _module().EvalLossConvAE(**settings).fit(X)
    plain = detectors.make("conv_ae", **settings).fit(X)
    assert len(traced.train_eval_curve_) == traced.n_epochs_ == plain.n_epochs_ == 4
    assert np.all(np.isfinite(traced.train_eval_curve_))
    np.testing.assert_allclose(traced.history_["val_loss"], plain.history_["val_loss"], rtol=1e-6)
    assert not hasattr(traced, "_fit_rows")  # the rows it kept for the callback are let go after the fit
