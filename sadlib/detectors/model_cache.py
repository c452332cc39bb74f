"""A cache of built, compiled Keras models, lent to one detector at a time (issue 21, speed).

Why: every new Keras model traces its own training, evaluation and prediction functions the
first time ``fit`` and ``predict`` run it. On a small fit (400 SKAB rows, a few seconds of
training) that tracing costs as much as the training, and notebooks 04-07 and
:mod:`sadlib.bench` fit a new detector per SKAB file. A model of the same architecture that an
earlier detector no longer needs already has those functions.

How: :class:`KerasModelCache` keeps such models, keyed by their architecture: the builder
function and its arguments (which include the input shape and the learning rate; every builder
compiles with :func:`~sadlib.detectors.keras_base.compile_model`, Adam and MSE, so the key also
fixes the optimizer and the loss). :meth:`KerasWindowDetector._fit
<sadlib.detectors.keras_base.KerasWindowDetector._fit>` asks it for a model right where it would
build one (after ``keras.utils.set_random_seed``):

* a free model of that architecture is taken out of the cache and **re-initialised in place**:
  every weight is drawn again by its layer's own initializer, with the seed that a fresh build
  under the same global random state would have drawn for that initializer (Keras draws one
  Python ``random`` number per initializer and per ``SeedGenerator`` when a layer is
  created; the cache records which draw went to which object when the model is first built and
  replays the draws, consuming Python's generator exactly as a build does). Weights from
  deterministic initializers (zeros, ones, counters such as the VQ-VAE's codebook counts) get
  the values they had right after the model was built; each ``SeedGenerator`` (dropout, the
  LSTM cells, the quantizer's dead-code picks) restarts from its re-drawn seed; a layer with a
  method ``after_weights_reset()`` then sets what it derives from its weights (the quantizer's
  ``ema_sum`` is a copy of its codebook). The optimizer's step count and moments are zeroed.
  The result is the model a fresh build would give for the same seed, so a fit through the
  cache gives the same weights, history and scores (``tests/test_model_cache.py`` checks it for
  every Keras detector). Nothing is ever copied from one model into another.
* when none is free, the model is built as before (and its build recorded).

The model is lent to that detector alone: it goes back to the cache only when the detector no
longer needs it, that is when the detector is garbage-collected (``weakref.finalize``) or
refitted. A detector that is copied or pickled keeps its model out of the cache for good, and a
loaded detector (:func:`sadlib.detectors.load`) owns the model it loaded. The cache keeps at most
``max_size`` free models (the least recently returned are dropped).

A model whose build does something the cache cannot replay (a random initializer it cannot tie
to a weight, a Python random draw it cannot find, NumPy's global generator used while building)
is never cached: such an architecture is built afresh every time, as without the cache.

Turning it off: ``MODEL_CACHE.max_size = 0`` (every fit builds its model, as before), or for a
block of code::

    from sadlib.detectors.model_cache import MODEL_CACHE
    with MODEL_CACHE.disabled():
        det.fit(X)

``MODEL_CACHE.clear()`` drops the free models (and frees their memory).
"""

from __future__ import annotations

import random as python_random
import threading
import weakref
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np

from ..environment import import_keras
from ..validation import check_int

__all__ = ["KerasModelCache", "MODEL_CACHE", "architecture_key"]

#: the most Python ``random`` draws a model's build may make for the cache to replay it
_MAX_DRAWS = 10_000
#: a variable attribute whose initializer attribute is not ``<name>_initializer``
_INITIALIZER_NAMES = {"recurrent_kernel": "recurrent_initializer"}


def _freeze(value: Any) -> Any:
    """A hashable form of a builder argument (lists become tuples, NumPy scalars Python ones)."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return ("ndarray", value.shape, value.dtype.str, value.tobytes())
    return value


def architecture_key(builder: Callable, args: tuple, kwargs: dict) -> tuple:
    """The cache key of ``builder(*args, **kwargs)``: the builder and its (frozen) arguments."""
    return (builder.__module__, builder.__qualname__, _freeze(args), _freeze(kwargs))


# --------------------------------------------------------------------------- #
# what a build drew, and how to draw it again
# --------------------------------------------------------------------------- #
def _sublayers(layer, seen: set) -> Iterator[Any]:
    """``layer`` and every layer it holds (attributes, lists, dicts), each once."""
    keras = import_keras()
    if id(layer) in seen:
        return
    seen.add(id(layer))
    yield layer
    for value in vars(layer).values():
        items = value if isinstance(value, (list, tuple)) else (
            value.values() if isinstance(value, dict) else (value,))
        for item in items:
            if isinstance(item, keras.layers.Layer):
                yield from _sublayers(item, seen)


class _Plan:
    """How to re-initialise one built model in place (recorded right after its build)."""

    def __init__(self, model, before: Any, after: Any, np_before: Any, np_after: Any):
        keras = import_keras()
        from keras.src.initializers.random_initializers import RandomInitializer
        from keras.src.random.seed_generator import SeedGenerator

        self.reason = ""
        # the Python draws of the build, in order (replayed from the state before it)
        replay = python_random.Random()
        replay.setstate(before)
        draws: list[int] = []
        while replay.getstate() != after and len(draws) < _MAX_DRAWS:
            draws.append(replay.randint(1, int(1e9)))
        if replay.getstate() != after:
            self.reason = "Python's random generator moved in a way the cache cannot replay"
            return
        if not _same_numpy_state(np_before, np_after):
            self.reason = "the build used NumPy's global random generator"
            return
        index = {v: i for i, v in enumerate(draws)}
        if len(index) != len(draws):
            self.reason = "two draws of the build had the same value"
            return
        self.n_draws = len(draws)
        self.initializers: list[tuple[Any, int]] = []  # (initializer, draw index) of drawn seeds
        self.generators: list[tuple[Any, int | None, int]] = []  # (SeedGenerator, draw index or None, seed)
        self.weights: list[tuple[Any, Callable[[], Any]]] = []  # (variable, gives its random initializer)
        self.hooks: list[Callable[[], None]] = []
        claimed: set[int] = set()
        for layer in _sublayers(model, set()):
            attrs = vars(layer)
            # ``kernel`` or ``_kernel`` (Dense keeps its kernel behind a property)
            variables = {name.lstrip("_"): v for name, v in attrs.items() if isinstance(v, keras.Variable)}
            for name, value in attrs.items():
                if isinstance(value, RandomInitializer):
                    if value._init_seed is None:
                        if not isinstance(value.seed, int) or value.seed not in index:
                            self.reason = f"initializer {layer.name}.{name} has a seed the cache did not see drawn"
                            return
                        self.initializers.append((value, index[value.seed]))
                        claimed.add(index[value.seed])
                    elif not isinstance(value.seed, int):
                        self.reason = f"initializer {layer.name}.{name} is seeded by a SeedGenerator"
                        return
                    target = next((v for vname, v in variables.items()
                                   if _INITIALIZER_NAMES.get(vname, f"{vname}_initializer") == name.lstrip("_")),
                                  None)
                    if target is not None:
                        if getattr(layer, "unit_forget_bias", False) and name.lstrip("_") == "bias_initializer":
                            self.reason = f"{layer.name}: a random bias initializer with unit_forget_bias"
                            return
                        self.weights.append((target, _effective_initializer(layer, name, value)))
                    elif variables:
                        self.reason = f"initializer {layer.name}.{name} initialises no weight the cache can name"
                        return
                elif isinstance(value, SeedGenerator):
                    seed = int(np.asarray(value.state.numpy())[0])
                    if value._initial_seed is None:
                        if seed not in index:
                            self.reason = f"seed generator {layer.name}.{name} has a seed the cache did not see drawn"
                            return
                        self.generators.append((value, index[seed], seed))
                        claimed.add(index[seed])
                    else:
                        self.generators.append((value, None, seed))
            hook = getattr(layer, "after_weights_reset", None)
            if callable(hook):
                self.hooks.append(hook)
        if claimed != set(range(len(draws))):
            missing = len(draws) - len(claimed)
            self.reason = f"{missing} random draw(s) of the build went to objects the cache cannot find"
            return
        # the model's own values right after its build (deterministic initializers, counters)
        self.initial = [(v, np.array(v.numpy())) for v in model.variables]

    @property
    def replayable(self) -> bool:
        return not self.reason

    def apply(self, model) -> None:
        """Re-initialise ``model`` in place as a fresh build under the current global random state would."""
        draws = [python_random.randint(1, int(1e9)) for _ in range(self.n_draws)]  # as the build draws them
        for var, value in self.initial:
            var.assign(value)
        for init, i in self.initializers:
            init.seed = draws[i]
        for var, make in self.weights:
            var.assign(make()(var.shape, dtype=var.dtype))
        for gen, i, seed in self.generators:
            seed = seed if i is None else draws[i]
            gen.state.assign(np.array([seed, 0], dtype=gen.state.dtype))
        for hook in self.hooks:
            hook()
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            for var in optimizer.variables:  # step count and moments, not the learning rate
                if "learning_rate" not in var.name:
                    var.assign(np.zeros(var.shape, dtype=var.dtype))
        model.stop_training = False


def _effective_initializer(layer, name: str, init) -> Callable[[], Any]:
    """A function giving the initializer ``layer`` called for the weight that ``init`` (its attribute ``name``)
    initialises, once the seeds are re-drawn. Usually ``init`` itself; ``EinsumDense`` (inside
    ``MultiHeadAttention``) calls a copy of a variance-scaling initializer that knows the kernel's input
    and output axes and carries the same seed (``EinsumDense._update_kernel_initializer``)."""
    keras = import_keras()
    scaling = keras.initializers.VarianceScaling
    if (isinstance(layer, keras.layers.EinsumDense) and name == "kernel_initializer" and isinstance(init, scaling)
            and (init.input_axes is None or init.output_axes is None)):
        from keras.src.layers.core.einsum_dense import _analyze_einsum_string

        shape = next(iter(layer._build_shapes_dict.values()))
        _, _, _, input_axes, output_axes = _analyze_einsum_string(layer.equation, layer.bias_axes, shape,
                                                                  layer.partial_output_shape)
        return lambda: layer._update_kernel_initializer(input_axes, output_axes)
    return lambda: init


def _same_numpy_state(a: Any, b: Any) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and tuple(a[2:]) == tuple(b[2:])


# --------------------------------------------------------------------------- #
# the cache
# --------------------------------------------------------------------------- #
class _Entry:
    __slots__ = ("key", "model", "plan")

    def __init__(self, key: tuple, model, plan: _Plan):
        self.key, self.model, self.plan = key, model, plan


class KerasModelCache:
    """Built, compiled Keras models kept for re-use, each lent to one detector at a time.

    Parameters
    ----------
    max_size : int >= 0
        Free models kept (all architectures together; the least recently returned are dropped
        beyond it). ``0`` turns the cache off: every fit builds its own model.

    See the module docstring for what lending does and why the result equals a fresh build.
    """

    def __init__(self, max_size: int = 8):
        self._free: OrderedDict[int, _Entry] = OrderedDict()
        self._plans: dict[tuple, _Plan] = {}  # per architecture: replayable or why not
        self._lock = threading.RLock()  # re-entrant: a finalizer may run while the cache is locked
        self.max_size = max_size
        self.hits = 0
        self.misses = 0

    @property
    def max_size(self) -> int:
        return self._max_size

    @max_size.setter
    def max_size(self, value: int) -> None:
        self._max_size = check_int("max_size", value, 0,
                                   hint="It is the number of free models kept; 0 turns the cache off.")
        self._trim()

    def __len__(self) -> int:
        return len(self._free)

    def clear(self) -> None:
        """Drop every free model (lent ones stay with their detectors and are dropped when returned)."""
        with self._lock:
            self._free.clear()

    @contextmanager
    def disabled(self) -> Iterator["KerasModelCache"]:
        """``with MODEL_CACHE.disabled():`` fits inside build their own models (``max_size = 0``), as without it."""
        old = self.max_size
        self.max_size = 0
        try:
            yield self
        finally:
            self.max_size = old

    def _trim(self) -> None:
        with self._lock:
            while len(self._free) > self._max_size:
                self._free.popitem(last=False)

    def lend(self, owner: Any, builder: Callable, *args: Any, **kwargs: Any):
        """The model ``builder(*args, **kwargs)`` would build now, lent to ``owner`` until it is collected.

        Call it where the model would be built (after ``keras.utils.set_random_seed``). Returns
        ``(model, loan)``: ``loan`` is a ``weakref.finalize`` on ``owner``; calling it gives the
        model back early (on a refit), ``loan.detach()`` keeps it out of the cache for good.
        """
        key = architecture_key(builder, args, kwargs)
        entry = None
        if self._max_size > 0:
            with self._lock:
                for ident, candidate in reversed(self._free.items()):
                    if candidate.key == key:
                        entry = self._free.pop(ident)
                        break
        if entry is not None:
            entry.plan.apply(entry.model)
            self.hits += 1
        else:
            self.misses += 1
            before, np_before = python_random.getstate(), np.random.get_state()
            model = builder(*args, **kwargs)
            plan = self._plans.get(key)
            if plan is None:
                plan = _Plan(model, before, python_random.getstate(), np_before, np.random.get_state())
                self._plans[key] = plan
            elif plan.replayable:  # the same architecture: the same objects, the new model's own ones
                plan = _Plan(model, before, python_random.getstate(), np_before, np.random.get_state())
            entry = _Entry(key, model, plan)
        loan = weakref.finalize(owner, self._give_back, entry)
        loan.atexit = False
        return entry.model, loan

    def _give_back(self, entry: _Entry) -> None:
        if not entry.plan.replayable or self._max_size == 0:
            return
        with self._lock:
            self._free[id(entry)] = entry
        self._trim()

    def why_not_cached(self, builder: Callable, *args: Any, **kwargs: Any) -> str | None:
        """Why models of this architecture are built afresh every time (``None``: they are cached,
        ``"not built yet"`` before the first build)."""
        plan = self._plans.get(architecture_key(builder, args, kwargs))
        return "not built yet" if plan is None else (plan.reason or None)


#: The cache the Keras detectors of this process share (see the module docstring; ``max_size = 0`` turns it off).
MODEL_CACHE = KerasModelCache()
