"""The golden store: one ``.npz`` per case, deterministic bytes, atomic writes.

A golden file is a zip of ``.npy`` arrays (NumPy's ``.npz``), read with
``allow_pickle=False``. Besides the result arrays (see :mod:`tf1_lstm.spec`)
it holds one JSON record under :data:`META_KEY` (a 0-d unicode array): schema
version, case, seed, spec, tolerances, package versions, platform, oneDNN
setting and the command that generated it. No time stamps: generating the
same golden twice gives the same bytes, so an unchanged golden never shows up
in ``git diff``.

Only dtype kinds ``b i u f c U`` are accepted (no objects, no pickles).
"""

from __future__ import annotations

import glob
import io
import json
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping

import numpy as np

# What a reader unpacks at most: each member's and the archive's declared size, checked in
# the zip's directory before anything is decompressed, and the metadata record's.
MAX_MEMBER_BYTES = 1 << 30
MAX_TOTAL_BYTES = 2 << 30
MAX_META_BYTES = 16 << 20
# Deflate expands its input at most ~1032 times: a member declaring more than this many bytes
# per stored byte lies about its size (and NumPy would allocate what it declares).
MAX_DEFLATE_RATIO = 1100
# A temporary file of an interrupted write is removed by the next write of that file
# once it is this old (a live writer finishes in seconds).
STALE_TMP_SECONDS = 600

SCHEMA_VERSION = 1
META_KEY = "__meta__"
ALLOWED_KINDS = "biufcU"
SUFFIX = ".npz"
OBTAINED_SUFFIX = ".obtained.npz"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class GoldenError(ValueError):
    """A golden file that is missing, unreadable or malformed; the message names it."""


@dataclass
class Golden:
    """A loaded golden file."""

    path: Path
    arrays: Dict[str, np.ndarray]
    meta: Dict[str, Any]


def path_for(golden_dir: os.PathLike, case: str) -> Path:
    return Path(golden_dir) / f"{case}{SUFFIX}"


def obtained_path_for(golden_dir: os.PathLike, case: str) -> Path:
    return Path(golden_dir) / f"{case}{OBTAINED_SUFFIX}"


def _check_kind(where: str, name: str, array: np.ndarray) -> None:
    if array.dtype.kind not in ALLOWED_KINDS:
        raise GoldenError(f"{where}: array {name!r} has dtype {array.dtype} (kind "
                          f"{array.dtype.kind!r}); goldens hold only kinds {ALLOWED_KINDS!r}")


def encode(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> bytes:
    """The ``.npz`` bytes of ``arrays`` plus ``meta``; the same input gives the same bytes."""
    if META_KEY in arrays:
        raise ValueError(f"array name {META_KEY!r} is reserved for the metadata")
    items = {k: np.asarray(v) for k, v in arrays.items()}
    for name, array in items.items():
        _check_kind("encode", name, array)
    items[META_KEY] = np.array(json.dumps(dict(meta), sort_keys=True, indent=1))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(items):
            info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_DATE)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.array(items[name], order="C"), allow_pickle=False)
            zf.writestr(info, npy.getvalue())
    return buf.getvalue()


def write_atomic(path: os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    A crash leaves either the old file or the new one, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def remove_stale_tmp(path: os.PathLike) -> None:
    """Remove what interrupted writes of ``path`` left (``.NAME.XXXX.tmp``, older than
    :data:`STALE_TMP_SECONDS`)."""
    import time

    path = Path(path)
    now = time.time()
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            if now - tmp.lstat().st_mtime > STALE_TMP_SECONDS and tmp.is_file():
                tmp.unlink()
        except OSError:
            pass  # another process removed it, or it is not ours to remove


def _check_sizes(path: Path, hint: str) -> None:
    """Refuse an archive whose members are not ``.npy`` arrays or declare too many bytes.

    Sizes come from the zip's central directory and each member's ``.npy``
    header (only the header is decompressed): NumPy would otherwise unpack a
    member, or allocate the shape its header declares, before finding it too
    big or short.
    """
    total = 0
    seen = set()
    try:
        size = path.stat().st_size
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy") or info.is_dir():
                    raise GoldenError(f"{path}: member {info.filename!r} is not an .npy array; "
                                      f"an .npz holds only .npy members{hint}")
                if info.filename in seen:
                    raise GoldenError(f"{path}: member {info.filename!r} appears twice; an "
                                      f".npz holds each array once{hint}")
                seen.add(info.filename)
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) \
                        or info.flag_bits & 0x1:
                    how = "is encrypted" if info.flag_bits & 0x1 else \
                        f"uses compression method {info.compress_type}"
                    raise GoldenError(f"{path}: member {info.filename!r} {how}; an .npz is "
                                      f"stored or deflated (np.savez, np.savez_compressed){hint}")
                limit = MAX_META_BYTES if info.filename == META_KEY + ".npy" else MAX_MEMBER_BYTES
                if info.file_size > limit:
                    raise GoldenError(f"{path}: member {info.filename!r} declares "
                                      f"{info.file_size} bytes, more than the {limit} a reader "
                                      f"unpacks; refusing it")
                stored = info.compress_size
                if stored > size - info.header_offset or (
                        info.file_size != stored if info.compress_type == zipfile.ZIP_STORED
                        else info.file_size > MAX_DEFLATE_RATIO * stored + 1024):
                    raise GoldenError(f"{path}: member {info.filename!r} declares "
                                      f"{info.file_size} bytes from {stored} stored, which the "
                                      f"{size}-byte file cannot hold; refusing it{hint}")
                total += info.file_size
                _check_header(path, zf, info, hint)
    except GoldenError:
        raise
    # zipfile raises NotImplementedError for a zip "version" it lacks, UnicodeDecodeError
    # (a ValueError) for a name that is not the UTF-8 its flag says
    except (OSError, EOFError, ValueError, NotImplementedError, zipfile.BadZipFile,
            zlib.error) as exc:
        raise GoldenError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})"
                          f"{hint}") from None
    if total > MAX_TOTAL_BYTES:
        raise GoldenError(f"{path}: its members declare {total} bytes, more than the "
                          f"{MAX_TOTAL_BYTES} a reader unpacks; refusing it")


def _check_header(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, hint: str) -> None:
    """Refuse a member whose ``.npy`` header declares more data than the member holds."""
    try:
        with zf.open(info) as member:
            version = np.lib.format.read_magic(member)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(member)
            header = member.tell()
    except Exception as exc:  # noqa: BLE001  (NumPy's header parser also raises SyntaxError,
        # tokenize.TokenError, RecursionError...: any of them means an unreadable header)
        raise GoldenError(f"{path}: member {info.filename!r} is not a readable .npy array "
                          f"({type(exc).__name__}: {str(exc)[:200]}){hint}") from None
    # NumPy checks neither the sign nor the type (True passes as a dimension, and fails later)
    if any(type(n) is not int or not 0 <= n <= MAX_MEMBER_BYTES for n in shape):
        raise GoldenError(f"{path}: member {info.filename!r} declares shape {tuple(shape)}, a "
                          f"dimension no readable array has; refusing it{hint}")
    count = 1
    for n in shape:
        count *= int(n)
    declared, room = count * dtype.itemsize, info.file_size - header
    if declared > room:
        raise GoldenError(f"{path}: member {info.filename!r} declares shape {tuple(shape)} of "
                          f"{dtype} ({declared} bytes) but holds {room}; refusing it{hint}")


def save(path: os.PathLike, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> bytes:
    """Encode and atomically write a golden; return the bytes written."""
    data = encode(arrays, meta)
    write_atomic(path, data)
    return data


def read_arrays(path: os.PathLike, *, hint: str = "", what: str = "golden file"
                ) -> Dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file, read without pickles (goldens, weights, sidecars).

    Raises:
      GoldenError: missing, truncated or corrupt file; a pickle or a single
        ``.npy``; pickled or object arrays; dtype kinds outside ``b i u f c U``.
        The message names the file.
    """
    path = Path(path)
    if not path.exists():
        raise GoldenError(f"{path}: {what} is missing{hint}")
    if path.is_dir():
        raise GoldenError(f"{path}: is a directory, expected an .npz file")
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic.startswith(b"\x93NUMPY"):
        raise GoldenError(f"{path}: a single .npy array, expected an .npz archive{hint}")
    if magic[:1] == b"\x80":
        raise GoldenError(f"{path}: holds a Python pickle, which goldens never contain; "
                          f"refusing to load it")
    if not magic.startswith(b"PK"):  # its bytes are not echoed: it may be any file
        raise GoldenError(f"{path}: not a readable .npz file (not a zip archive){hint}")
    _check_sizes(path, hint)
    arrays: Dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for name in npz.files:
                arrays[name] = npz[name]
    except GoldenError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc) or "Object arrays" in str(exc):
            raise GoldenError(f"{path}: holds pickled or object data, which goldens never "
                              f"contain; refusing to load it ({exc})") from None
        raise GoldenError(f"{path}: not a readable .npz file ({exc}){hint}") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError, zlib.error,
            NotImplementedError) as exc:
        raise GoldenError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})"
                          f"{hint}") from None
    for name, array in arrays.items():
        _check_kind(str(path), name, array)
    return arrays


def load(path: os.PathLike, *, regen_hint: str = "") -> Golden:
    """Read a golden file.

    Raises:
      GoldenError: missing, truncated or corrupt file; pickled or object
        arrays; dtype kinds outside ``b i u f c U``; missing or unreadable
        metadata; another schema version.
    """
    path = Path(path)
    hint = f"; {regen_hint}" if regen_hint else ""
    arrays = read_arrays(path, hint=hint)
    if META_KEY not in arrays:
        raise GoldenError(f"{path}: no metadata record {META_KEY!r}; not a tf1_lstm golden{hint}")
    raw = arrays.pop(META_KEY)
    try:
        meta = json.loads(str(raw[()]))
    except RecursionError:
        raise GoldenError(f"{path}: metadata record is nested too deeply to be a tf1_lstm "
                          f"record{hint}") from None
    except (ValueError, TypeError, IndexError) as exc:
        raise GoldenError(f"{path}: metadata record is not valid JSON ({exc}){hint}") from None
    if not isinstance(meta, dict):
        raise GoldenError(f"{path}: metadata record is not a JSON object{hint}")
    version = meta.get("schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:  # JSON true and 1.0 equal 1
        raise GoldenError(f"{path}: schema version {version!r:.80}, this "
                          f"tf1_lstm reads version {SCHEMA_VERSION}{hint}")
    return Golden(path=path, arrays=arrays, meta=meta)
