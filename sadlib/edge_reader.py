"""Run a sadlib edge bundle with NumPy and ``ai-edge-litert`` only (no TensorFlow, Keras, scikit-learn, pandas).

This file is self-contained on purpose: :func:`sadlib.edge_bundle.write_bundle` copies it into
every bundle as ``edge_reader.py``, so a device that has only ``numpy`` and ``ai-edge-litert``
installed (``pip install numpy ai-edge-litert``) runs a bundle without sadlib::

    from edge_reader import load_bundle          # or: from sadlib.edge_reader import load_bundle

    scorer = load_bundle("pump_bundle")          # checks the SHA-256 of every file
    for values in sensor_samples():              # one sample: the sensors in manifest["features"] order
        step = scorer.update(values)
        if step.alarm:
            raise_alarm(step.score)

The manifest (``manifest.json``) says what the scorer does, so a plant engineer can check it:
feature names and order, the scaler's constants, ``window`` and ``stride``, the rule that gives
each timestamp its score, the threshold and the alarm rule, the model file of each variant and,
for the integer-only variant, the scale and zero point of its int8 input and output.

Score rule. The score at sample ``t`` is the reconstruction error of the window of samples
``t - window + 1 .. t`` (the detector's ``aggregate="last"``): the mean over the window's values of
``(reconstruction - input) ** 2`` (``error="mse"``) or ``|reconstruction - input|`` (``"mae"``),
in float64, each sensor's error divided by ``error_scale`` when the detector normalises. The first
``window - 1`` samples have no score (NaN) and raise no alarm.

Alarm rule (manifest ``"alarm"``): the steps of :class:`sadlib.alarms.AlarmPolicy`, one sample at a
time, each on the output of the one before: level (``score > threshold``, or with ``off_threshold`` a
latch that switches off at or below it; NaN is not above), ``k`` of the last ``n`` levels, ``min_duration``
consecutive samples of that, ``hold`` samples of hold, no new onset for ``dead_time`` samples after an
alarm ends, and an announcement at each onset and every ``rearm`` samples of a standing alarm. Without an
alarm policy the bundle has ``k = n = 1``, ``hold = dead_time = 0``, no latch, no re-arm: ``alarm[t]`` when
the last ``min_duration`` scores are all above the threshold (strictly).
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = ["load_bundle", "EdgeScorer", "EdgeStep", "BUNDLE_FORMAT", "BUNDLE_FORMAT_VERSION"]

BUNDLE_FORMAT = "sadlib-edge-bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class EdgeStep(NamedTuple):
    """What :meth:`EdgeScorer.update` returns for one sample."""

    score: float  # NaN until ``window`` samples have been seen
    alarm: bool  # the alarm state after this sample (the manifest's alarm rule)
    announced: bool  # whether this sample alerts the operator (an onset, or a re-arm of a standing alarm)


class AlarmRule:
    """The manifest's alarm rule on one score at a time (see the module docstring); ``update(score) -> bool``."""

    def __init__(self, spec: dict):
        self.threshold = float(spec["threshold"])
        self.off_threshold = None if spec.get("off_threshold") is None else float(spec["off_threshold"])
        self.k, self.n = int(spec.get("k", 1)), int(spec.get("n", 1))
        self.min_duration, self.hold = int(spec.get("min_duration", 1)), int(spec.get("hold", 0))
        self.dead_time = int(spec.get("dead_time", 0))
        self.rearm = None if spec.get("rearm") is None else int(spec["rearm"])
        self.reset()

    def reset(self) -> None:
        self.latched, self.levels, self.run = False, deque(maxlen=self.n), 0
        self.since_lasting, self.on, self.dead_until, self.age, self.t = self.hold + 1, False, 0, 0, 0
        self.announced = False

    def update(self, score: float) -> bool:
        t, self.t = self.t, self.t + 1
        above = score > self.threshold  # False for NaN
        if self.off_threshold is None:
            level = above
        else:  # hysteresis latch
            self.latched = True if above else (self.latched and score > self.off_threshold)
            level = self.latched
        self.levels.append(level)
        self.run = self.run + 1 if sum(self.levels) >= self.k else 0
        self.since_lasting = 0 if self.run >= self.min_duration else self.since_lasting + 1
        held = self.since_lasting <= self.hold
        was_on = self.on
        if self.on and not held:
            self.on, self.dead_until = False, t + self.dead_time
        elif not self.on and held and t >= self.dead_until:
            self.on = True
        if self.on:
            self.age = self.age + 1 if was_on else 0
            self.announced = self.age == 0 or (self.rearm is not None and self.age % self.rearm == 0)
        else:
            self.announced = False
        return self.on


def sha256(path: Path) -> str:
    """SHA-256 of a file, hex (the writer records it, the reader checks it: one definition for both)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scale(values: np.ndarray, scaler: dict) -> np.ndarray:
    """The detector's scikit-learn scaler, as plain arithmetic on the manifest's constants (float64)."""
    x = np.asarray(values, dtype=np.float64)
    kind = scaler["kind"]
    if kind == "minmax":  # MinMaxScaler: x * scale_ + min_
        return x * np.asarray(scaler["scale"]) + np.asarray(scaler["min"])
    if kind == "standard":  # StandardScaler: (x - mean_) / scale_
        return (x - np.asarray(scaler["mean"])) / np.asarray(scaler["scale"])
    if kind == "robust":  # RobustScaler: (x - center_) / scale_
        return (x - np.asarray(scaler["center"])) / np.asarray(scaler["scale"])
    raise ValueError(f"scaler kind {kind!r} in the manifest is not one this reader knows (minmax, standard, robust).")


class _Model:
    """One .tflite file of the bundle, run one window at a time; int8 I/O quantised with the manifest's parameters."""

    def __init__(self, path: Path, spec: dict, num_threads: int):
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        self.interpreter.allocate_tensors()
        inp, out = self.interpreter.get_input_details()[0], self.interpreter.get_output_details()[0]
        self.input_index, self.output_index = inp["index"], out["index"]
        self.input_shape = tuple(int(s) for s in inp["shape"])
        self.input_dtype = np.dtype(spec["input"]["dtype"])
        self.input_q = spec["input"].get("quantization")
        self.output_q = spec["output"].get("quantization")
        if np.dtype(inp["dtype"]) != self.input_dtype or np.dtype(out["dtype"]) != np.dtype(spec["output"]["dtype"]):
            raise ValueError(f"{path.name}: its input/output types ({np.dtype(inp['dtype']).name}, "
                             f"{np.dtype(out['dtype']).name}) differ from the manifest's; the bundle is inconsistent.")

    def __call__(self, window: np.ndarray) -> np.ndarray:
        x = window.reshape(self.input_shape)
        if self.input_q is not None:  # real = scale * (q - zero_point)
            s, z = self.input_q["scale"], self.input_q["zero_point"]
            info = np.iinfo(self.input_dtype)
            x = np.clip(np.round(x / s) + z, info.min, info.max).astype(self.input_dtype)
        else:
            x = x.astype(np.float32)
        self.interpreter.set_tensor(self.input_index, x)
        self.interpreter.invoke()
        y = self.interpreter.get_tensor(self.output_index)
        if self.output_q is not None:
            y = self.output_q["scale"] * (y.astype(np.float64) - self.output_q["zero_point"])
        return np.asarray(y, dtype=np.float64).reshape(-1)


class EdgeScorer:
    """Scores a stream sample by sample from a bundle (see the module docstring); built by :func:`load_bundle`.

    Attributes
    ----------
    manifest : dict, the bundle's manifest
    variant : str, the model variant in use ("float32" or "int8")
    features : list of str, the sensors of a sample, in order
    window, threshold : from the manifest (``threshold``: the detector's; the alarm rule may have its own)
    alarm_rule : :class:`AlarmRule`, the manifest's alarm rule
    """

    def __init__(self, folder: Path, manifest: dict, variant: str, num_threads: int = 1):
        self.folder, self.manifest, self.variant = folder, manifest, variant
        self.features = list(manifest["features"])
        self.window = int(manifest["window"])
        self.threshold = float(manifest["threshold"])
        self.alarm_rule = AlarmRule(manifest["alarm"])
        score = manifest["score"]
        self.error = score["error"]
        self.error_scale = None if score["error_scale"] is None else np.asarray(score["error_scale"], dtype=np.float64)
        self._scaler = manifest["scaler"]
        self._model = _Model(folder / manifest["models"][variant]["file"], manifest["models"][variant], num_threads)
        self.reset()

    def reset(self) -> "EdgeScorer":
        """Forget the samples seen so far (a new stream)."""
        self._buffer = np.zeros((self.window, len(self.features)), dtype=np.float32)
        self._seen = 0
        self.alarm_rule.reset()
        return self

    def window_score(self, window: np.ndarray) -> float:
        """The score of one scaled window ``(window, n_features)`` float32."""
        x = window.astype(np.float64).reshape(-1)
        diff = self._model(window) - x
        err = (diff**2 if self.error == "mse" else np.abs(diff)).reshape(self.window, -1)
        if self.error_scale is not None:
            err = err / self.error_scale
        return float(err.mean())

    def update(self, values: Any) -> EdgeStep:
        """Take one sample (the sensors in ``features`` order), return its score and alarm."""
        x = np.asarray(values, dtype=np.float64).reshape(-1)
        if x.shape != (len(self.features),):
            raise ValueError(f"values has {x.size} numbers; a sample has one per feature, in this order: "
                             f"{self.features}.")
        if not np.all(np.isfinite(x)):
            raise ValueError("values contains NaN or inf; fill or drop the sample before scoring it.")
        self._buffer = np.roll(self._buffer, -1, axis=0)
        self._buffer[-1] = scale(x, self._scaler).astype(np.float32)
        self._seen += 1
        score = self.window_score(self._buffer) if self._seen >= self.window else float("nan")
        alarm = self.alarm_rule.update(score)
        return EdgeStep(score, alarm, self.alarm_rule.announced)

    def run(self, samples: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, alarms)`` for consecutive samples ``(n, n_features)``, fed one at a time."""
        steps = [self.update(row) for row in np.asarray(samples, dtype=np.float64)]
        return np.array([s.score for s in steps]), np.array([s.alarm for s in steps], dtype=bool)

    def __repr__(self) -> str:
        return (f"EdgeScorer({str(self.folder)!r}, variant={self.variant!r}, window={self.window}, "
                f"features={self.features}, threshold={self.threshold:.6g})")


def read_manifest(folder: Any) -> dict:
    """The bundle's manifest, checked to be one."""
    folder = Path(folder)
    file = folder / MANIFEST
    if not file.is_file():
        raise FileNotFoundError(f"no bundle at {str(folder)!r}: {MANIFEST} is missing. Pass the folder that "
                                f"write_bundle wrote (copy the whole folder).")
    try:
        manifest = json.loads(file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{file} is not valid JSON ({err}); copy the bundle again.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise ValueError(f"{file} is not a sadlib edge bundle manifest (no \"format\": \"{BUNDLE_FORMAT}\").")
    if manifest.get("format_version") != BUNDLE_FORMAT_VERSION:
        raise ValueError(f"{file} has format_version {manifest.get('format_version')!r}; this reader reads "
                         f"{BUNDLE_FORMAT_VERSION}. Use the edge_reader.py inside the bundle.")
    return manifest


def load_bundle(folder: Any, *, variant: str = "float32", num_threads: int = 1, verify: bool = True) -> EdgeScorer:
    """An :class:`EdgeScorer` for the bundle in ``folder``.

    Parameters
    ----------
    folder : str or Path, the folder :func:`sadlib.edge_bundle.write_bundle` wrote
    variant : str, which model to run: "float32" or, when the bundle has it, "int8" (int8 input and output)
    num_threads : int, CPU threads of the LiteRT interpreter
    verify : bool, check every file's SHA-256 against the manifest first (a damaged copy is refused)
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if variant not in manifest["models"]:
        raise ValueError(f"variant={variant!r} is not in this bundle; it has {sorted(manifest['models'])}. Write the "
                         f"bundle with variants=[..., {variant!r}] or pick one of those.")
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be an int >= 1; got {num_threads!r}.")
    if verify:
        for name, digest in manifest["files"].items():
            path = folder / name
            if not path.is_file():
                raise FileNotFoundError(f"{folder} is incomplete: {name} is missing. Copy the whole bundle folder.")
            if sha256(path) != digest:
                raise ValueError(f"{path} is damaged or changed: its SHA-256 differs from the manifest's. Copy the "
                                 f"bundle again.")
    return EdgeScorer(folder, manifest, variant, num_threads)
