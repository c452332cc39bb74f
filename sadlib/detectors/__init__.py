"""Detectors of the course, all with the same interface (see :mod:`.base`).

Name a detector by its short name, so notebooks, the benchmark and tests can
refer to it the same way::

    from sadlib import detectors
    det = detectors.make("zscore", window=60).fit(X_train)
    alarms = det.predict(X_test)
    detectors.available()   # the registered short names
"""

from __future__ import annotations

import difflib
from typing import Any, Callable

from .base import DEFAULT_THRESHOLD, Detector
from .dense_ae import DenseAutoencoder  # Keras is imported only when a model is built
from .ewma import EWMAChart
from .iforest import IsolationForestDetector
from .lstm_forecast import LSTMForecaster
from .ocsvm import OneClassSVMDetector
from .pca import PCADetector
from .persistence import load
from .postprocess import Ensemble, Smoothed
from .preprocess import MovingAverage, SlowSensors, moving_average_z
from .robust_z import RobustZScore
from .sequence_ae import AttentionLSTMAutoencoder, CNNLSTMAutoencoder, ConvAutoencoder, LSTMAutoencoder
from .skab_conv_ae import SKABConvAE
from .transformer_ae import TransformerAutoencoder
from .vqvae import VQVAE
from .windowed import WindowedDetector
from .zscore import RollingZScore

__all__ = [
    "Detector",
    "DEFAULT_THRESHOLD",
    "WindowedDetector",
    "RollingZScore",
    "RobustZScore",
    "EWMAChart",
    "IsolationForestDetector",
    "OneClassSVMDetector",
    "DenseAutoencoder",
    "PCADetector",
    "LSTMForecaster",
    "LSTMAutoencoder",
    "ConvAutoencoder",
    "CNNLSTMAutoencoder",
    "AttentionLSTMAutoencoder",
    "TransformerAutoencoder",
    "VQVAE",
    "SKABConvAE",
    "Smoothed",
    "Ensemble",
    "MovingAverage",
    "SlowSensors",
    "moving_average_z",
    "load",
    "register",
    "make",
    "available",
    "REGISTRY",
]

#: short name -> detector class (or a factory returning a Detector)
REGISTRY: dict[str, Callable[..., Detector]] = {}


def register(name: str, factory: Callable[..., Detector]) -> None:
    """Register a detector class (or factory) under a short name."""
    if name in REGISTRY and REGISTRY[name] is not factory:
        raise ValueError(f"a detector named {name!r} is already registered ({REGISTRY[name]}).")
    REGISTRY[name] = factory


def available() -> list[str]:
    """Short names of all registered detectors, sorted."""
    return sorted(REGISTRY)


def make(name: str, **params: Any) -> Detector:
    """Create a detector by short name, e.g. ``make("zscore", window=120)``."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown detector {name!r}.{hint} Available: {', '.join(available())}.") from None
    return factory(**params)


register("zscore", RollingZScore)
register("robust_z", RobustZScore)
register("ewma", EWMAChart)
register("iforest", IsolationForestDetector)
register("ocsvm", OneClassSVMDetector)
register("dense_ae", DenseAutoencoder)
register("pca", PCADetector)
register("smoothed", Smoothed)
register("ensemble", Ensemble)
register("moving_average", MovingAverage)
register("slow_sensors", SlowSensors)
register("ma_z", moving_average_z)
register("lstm_forecast", LSTMForecaster)
register("lstm_ae", LSTMAutoencoder)
register("conv_ae", ConvAutoencoder)
register("cnn_lstm", CNNLSTMAutoencoder)
register("attn_lstm", AttentionLSTMAutoencoder)
register("vqvae", VQVAE)
register("skab_conv_ae", SKABConvAE)
register("transformer_ae", TransformerAutoencoder)
