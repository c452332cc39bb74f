"""What travels between a site and the server: model weights and (compressed) weight updates.

A client never sends its data, only numbers about the model. Three encodings of a
client's update, all packed in a Flower :class:`~flwr.app.ArrayRecord`:

``None`` (plain)
    The new local weights, one float32 array per model variable (keys ``"0"``, ``"1"``, ...),
    as Flower's examples send them.
``"q8"`` (8-bit linear quantisation of the update)
    The *update* ``delta = local - global`` of every variable is mapped linearly onto
    256 levels between its own minimum and maximum (one ``uint8`` per value, one float32
    ``(low, step)`` pair per variable and a 4-byte tag of the variables' shapes, all in one
    byte buffer): 4x fewer bytes than float32,
    with a rounding error of at most about ``step / 2`` per value. This is the quantiser of
    "QSGD"-style schemes without the random rounding (Alistarh et al., NeurIPS 2017),
    as the communication-efficient federated anomaly detection of Liu et al. (IEEE IoT
    Journal 2021) uses to shrink the uplink.
``"topk"`` (top-k sparsification + 8-bit values)
    Only the ``topk`` fraction of each variable's update values with the largest magnitude is
    sent, as a bit mask (1 bit per value) plus their 8-bit codes (Aji & Heafield, EMNLP 2017;
    Lin et al., "Deep gradient compression", ICLR 2018). The client keeps what it did not send and
    adds it to its next update (error feedback), so nothing is lost for good.

The server decodes with :func:`decode_update`, which also *checks* the update: wrong keys, shapes,
dtypes, an update encoded for another layout of the model's variables (the shape tag: the
same number of values reordered or reshaped) or non-finite values (received, or decoded)
raise :class:`MalformedUpdate`, and the server drops that client for the round (see
:class:`sadlib.federated.apps.GuardedStrategy`). Arguments that are not what the functions
take (``None``, strings, a residual of other shapes) raise :class:`~sadlib.validation.InvalidParameterError`.

**What the byte counts count.** :func:`record_bytes` is Flower's own count of an ArrayRecord's
payload (``ArrayRecord.count_bytes``: each array's data bytes plus its key and its dtype and
shape fields), the part of a Flower message that grows with the model. It is *not* the size of
a whole serialised Flower message: the message's metadata, the record's other entries (the
config or metrics) and the transport's framing come on top. Measured once with Flower's protobuf
serialisation (``flwr.common.serde.message_to_proto``) for notebook 11's model of 7,734 weights:
a train reply is 165 to 440 bytes larger than its ArrayRecord's count (31,968 plain, 7,932 q8),
a train instruction 924 bytes larger (its config carries the scaler's means and spreads).
"""

from __future__ import annotations

import zlib
from typing import Any, Sequence

import numpy as np

from ..validation import InvalidParameterError, check_number

__all__ = ["COMPRESSIONS", "MalformedUpdate", "check_compression", "weights_to_record", "record_to_weights",
           "encode_update", "decode_update", "record_bytes"]

#: The update encodings a client can use (``None``: plain float32 weights).
COMPRESSIONS: tuple[str | None, ...] = (None, "q8", "topk")
_LEVELS = 255  # uint8 codes 0..255


class MalformedUpdate(ValueError):
    """A client's reply cannot be used: wrong keys, shapes or dtypes, or values that are not finite."""


def _import_flwr_app():
    try:
        from flwr import app
    except ImportError as err:  # pragma: no cover - the [federated] extra installs it
        raise ImportError("sadlib.federated needs Flower: pip install 'sadlib[federated]' (flwr[simulation]).") \
            from err
    return app


def _arrays(name: str, value: Any, *, finite: bool = True) -> list[np.ndarray]:
    """``value`` as a list of float32 arrays, or a clear error naming ``name``."""
    if value is None or isinstance(value, (str, bytes, dict)) or not isinstance(value, Sequence):
        raise InvalidParameterError(f"{name} must be a list of NumPy arrays, one per model variable (as "
                                    f"model.get_weights() returns them), got {type(value).__name__}.")
    out = []
    for i, v in enumerate(value):
        arr = np.asarray(v) if not isinstance(v, (str, bytes)) else np.asarray(v, dtype=object)
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise InvalidParameterError(f"{name}[{i}] must be an array of numbers, got {type(v).__name__} of dtype "
                                        f"{arr.dtype}; pass the model's weights as NumPy float arrays.")
        arr = arr.astype(np.float32)
        if finite and not np.all(np.isfinite(arr)):
            raise InvalidParameterError(f"{name}[{i}] holds NaN or infinite values; a model with such weights "
                                        f"cannot be sent or updated (check the training that produced them).")
        out.append(arr)
    return out


def _layout_tag(shapes: Sequence[tuple]) -> np.ndarray:
    """4 bytes that identify the variables' shapes in order (CRC-32 of their text), as uint8."""
    text = ";".join(",".join(str(int(n)) for n in s) for s in shapes)
    return np.frombuffer(np.uint32(zlib.crc32(text.encode())).astype("<u4").tobytes(), np.uint8)


def check_compression(compress: Any) -> str | None:
    """Return ``compress`` if it is one of :data:`COMPRESSIONS`, else raise a clear error."""
    if compress not in COMPRESSIONS:
        raise InvalidParameterError(f"compress must be one of {list(COMPRESSIONS)}, got {compress!r}: None sends the "
                                    f"float32 weights, 'q8' the 8-bit update, 'topk' the largest update values.")
    return compress


def weights_to_record(weights: Sequence[np.ndarray]):
    """A Flower ArrayRecord holding ``weights`` as float32 arrays under keys ``"0"``, ``"1"``, ..."""
    app = _import_flwr_app()
    return app.ArrayRecord(_arrays("weights", weights, finite=False))


def record_to_weights(record) -> list[np.ndarray]:
    """The arrays of an ArrayRecord made by :func:`weights_to_record`, in key order ``"0"``, ``"1"``, ..."""
    _check_record(record, "?")
    keys = sorted(record.keys(), key=lambda k: int(k) if str(k).isdigit() else -1)
    if keys != [str(i) for i in range(len(keys))]:
        raise MalformedUpdate(f"expected array keys '0', '1', ... , got {sorted(record.keys())}.")
    return [record[k].numpy() for k in keys]


def _check_record(record: Any, node: Any) -> None:
    app = _import_flwr_app()
    if not isinstance(record, app.ArrayRecord):
        raise MalformedUpdate(f"the update from node {node} must be a Flower ArrayRecord (as encode_update makes it), "
                              f"got {type(record).__name__}.")


def record_bytes(record) -> int:
    """Payload bytes of an ArrayRecord: Flower's ``ArrayRecord.count_bytes()``.

    Each array's data bytes plus its key and dtype/shape fields; not a whole serialised
    message (see the module docstring: metadata, config and framing come on top).
    """
    app = _import_flwr_app()
    if not isinstance(record, app.ArrayRecord):
        raise InvalidParameterError(f"record must be a Flower ArrayRecord, got {type(record).__name__}; pass what "
                                    f"encode_update or weights_to_record returned.")
    return int(record.count_bytes())


# ----------------------------------------------------------------------------- quantisation
def _quantise(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    """uint8 codes of ``values`` on 256 levels from their min to their max, and ``(low, step)``."""
    if values.size == 0:
        return np.zeros(0, dtype=np.uint8), 0.0, 0.0
    low, high = float(values.min()), float(values.max())
    step = float(np.float32((high - low) / _LEVELS))
    low = float(np.float32(low))  # low and step travel as float32
    if step == 0.0:
        return np.zeros(values.size, dtype=np.uint8), low, 0.0
    codes = np.rint((values - low) / step)
    return np.clip(codes, 0, _LEVELS).astype(np.uint8), low, step


def _dequantise(codes: np.ndarray, low: float, step: float) -> np.ndarray:
    return (low + step * codes.astype(np.float64)).astype(np.float32)


def encode_update(weights: Sequence[np.ndarray], global_weights: Sequence[np.ndarray], compress: str | None = None,
                  *, topk: float = 0.25, residual: Sequence[np.ndarray] | None = None):
    """Pack a client's new weights for the server, optionally compressed.

    Parameters
    ----------
    weights : list of arrays, the client's weights after local training
    global_weights : list of arrays, the global weights the round started from (same shapes)
    compress : {None, "q8", "topk"}
        See the module docstring. ``None`` sends ``weights`` as float32.
    topk : float in (0, 1]
        Share of each variable's update values that ``"topk"`` sends.
    residual : list of arrays, optional
        What earlier ``"topk"`` rounds did not send; added to this update (error feedback).
        One finite array per variable, shaped as ``weights`` (it is never broadcast).

    Returns
    -------
    record : flwr.app.ArrayRecord
        What the client sends.
    residual : list of arrays
        ``update - what the server will decode``, to pass back as ``residual`` next round
        (zeros for ``None``; the 8-bit rounding error for ``"q8"``).
    """
    check_compression(compress)
    topk = check_number("topk", topk, 0, 1, low_open=True, hint="It is the share of update values sent.")
    app = _import_flwr_app()
    weights = _arrays("weights", weights)
    global_weights = _arrays("global_weights", global_weights)
    if [w.shape for w in weights] != [g.shape for g in global_weights]:
        raise InvalidParameterError("weights and global_weights must have the same shapes, got "
                                    f"{[w.shape for w in weights]} and {[g.shape for g in global_weights]}.")
    if residual is not None:
        residual = _arrays("residual", residual)
        if [r.shape for r in residual] != [w.shape for w in weights]:
            raise InvalidParameterError(f"residual must hold one array per variable shaped as weights "
                                        f"{[w.shape for w in weights]}, got {[r.shape for r in residual]}; pass the "
                                        f"residual that encode_update returned last round (or None).")
    if compress is None:
        return weights_to_record(weights), [np.zeros_like(w) for w in weights]
    with np.errstate(over="ignore"):  # an update beyond float32's range is refused below
        deltas = [(w - g).astype(np.float64).ravel() for w, g in zip(weights, global_weights)]
    if residual is not None:
        deltas = [d + r.astype(np.float64).ravel() for d, r in zip(deltas, residual)]
    for i, d in enumerate(deltas):
        if d.size and np.abs(d).max() > np.finfo(np.float32).max / 2:  # low and step travel as float32
            raise InvalidParameterError(f"the update of variable {i} reaches {np.abs(d).max():.3g}, beyond what its "
                                        f"float32 range (low, step) can carry; send it with compress=None.")
    masks = []
    for d in deltas:
        mask = np.ones(d.size, dtype=bool)
        if compress == "topk" and d.size:
            keep = max(1, int(round(topk * d.size)))
            mask[:] = False
            mask[np.argpartition(np.abs(d), d.size - keep)[d.size - keep:]] = True
        masks.append(mask)
    codes, ranges, sent = [], [], []
    for d, mask in zip(deltas, masks):
        c, low, step = _quantise(d[mask])
        codes.append(c)
        ranges.append((low, step))
        full = np.zeros(d.size, dtype=np.float64)
        full[mask] = _dequantise(c, low, step)
        sent.append(full)
    # one byte buffer per update (one array header instead of three): the (low, step) pairs as float32,
    # the shape tag, then the top-k bit mask, then the codes
    parts = [np.asarray(ranges, dtype="<f4").reshape(-1).view(np.uint8), _layout_tag([w.shape for w in weights])]
    if compress == "topk":
        parts.append(np.packbits(np.concatenate(masks)) if masks else np.zeros(0, np.uint8))
    parts.extend(codes)
    record = app.ArrayRecord()
    record[compress] = app.Array(np.concatenate(parts))
    new_residual = [(d - s).reshape(w.shape).astype(np.float32) for d, s, w in zip(deltas, sent, weights)]
    return record, new_residual


def _finite(name: str, values: np.ndarray, node: Any) -> None:
    if not np.issubdtype(values.dtype, np.number) or not np.all(np.isfinite(values)):
        raise MalformedUpdate(f"{name} from node {node} holds values that are not finite numbers (NaN or inf).")


def decode_update(record, global_weights: Sequence[np.ndarray], compress: str | None = None,
                  *, node: Any = "?") -> list[np.ndarray]:
    """The client's new weights from its reply, checked.

    Parameters
    ----------
    record : flwr.app.ArrayRecord, as :func:`encode_update` made it
    global_weights : list of arrays, the global weights of this round
    compress : {None, "q8", "topk"}, the encoding the clients were told to use
    node : any, the client's node id, for the error message

    Returns
    -------
    list of float32 arrays, shaped as ``global_weights``

    Raises
    ------
    MalformedUpdate
        Keys, shapes or dtypes are not what ``compress`` produces, the update was encoded for
        another layout of the variables, or a value (received or decoded) is NaN or infinite.
    InvalidParameterError
        ``global_weights`` is not a list of arrays, or ``compress`` is unknown.
    """
    check_compression(compress)
    global_weights = _arrays("global_weights", global_weights, finite=False)
    for i, g in enumerate(global_weights):
        if not np.all(np.isfinite(g)):
            raise MalformedUpdate(f"global_weights[{i}] holds NaN or infinite values, so no update from node {node} "
                                  f"can be decoded into finite weights; restart from the last finite global model.")
    shapes = [g.shape for g in global_weights]
    _check_record(record, node)
    try:
        if compress is None:
            weights = record_to_weights(record)
            if [w.shape for w in weights] != shapes:
                raise MalformedUpdate(f"the weights from node {node} have shapes {[w.shape for w in weights]}, "
                                      f"the model has {shapes}.")
            for i, w in enumerate(weights):
                _finite(f"array {i}", w, node)
            return [w.astype(np.float32) for w in weights]
        if list(record.keys()) != [compress]:
            raise MalformedUpdate(f"a {compress!r} update from node {node} must hold one array {compress!r}, "
                                  f"got {sorted(record.keys())}.")
        buffer = record[compress].numpy()
        if buffer.dtype != np.uint8 or buffer.ndim != 1:
            raise MalformedUpdate(f"a {compress!r} update from node {node} must be a 1-d uint8 buffer, "
                                  f"got {buffer.dtype} of shape {buffer.shape}.")
        sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
        head = 8 * len(shapes) + 4
        n_mask = (sum(sizes) + 7) // 8 if compress == "topk" else 0
        if buffer.size < head + n_mask:
            raise MalformedUpdate(f"the {compress!r} update from node {node} is {buffer.size} bytes, too short for "
                                  f"the model's {len(shapes)} variables.")
        ranges = buffer[:head - 4].copy().view("<f4").astype(np.float64).reshape(-1, 2)
        _finite("the quantisation ranges", ranges, node)
        if not np.array_equal(buffer[head - 4:head], _layout_tag(shapes)):
            raise MalformedUpdate(f"the {compress!r} update from node {node} was encoded for variables of other shapes "
                                  f"(or in another order) than the global model's {shapes}.")
        if compress == "topk":
            mask = np.unpackbits(buffer[head:head + n_mask])[: sum(sizes)].astype(bool)
        else:
            mask = np.ones(sum(sizes), dtype=bool)
        codes = buffer[head + n_mask:]
        if codes.size != int(mask.sum()):
            raise MalformedUpdate(f"node {node} sent {codes.size} codes for {int(mask.sum())} update values.")
    except MalformedUpdate:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise MalformedUpdate(f"the update from node {node} cannot be read: {err}") from None
    out, start, cstart = [], 0, 0
    for g, size, (low, step) in zip(global_weights, sizes, ranges):
        m = mask[start:start + size]
        k = int(m.sum())
        delta = np.zeros(size, dtype=np.float32)
        delta[m] = _dequantise(codes[cstart:cstart + k], low, step)
        with np.errstate(over="ignore"):  # a sum beyond float32's range is refused below
            out.append((g.ravel() + delta).reshape(g.shape))
        start, cstart = start + size, cstart + k
    for i, w in enumerate(out):  # float32 overflow of a huge (but finite) update
        _finite(f"decoded array {i}", w, node)
    return out
