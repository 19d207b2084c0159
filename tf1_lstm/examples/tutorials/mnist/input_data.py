"""TF 1.x's ``tensorflow.examples.tutorials.mnist.input_data``: MNIST from local IDX files.

``read_data_sets(train_dir, one_hot=True)`` returns ``Datasets(train,
validation, test)`` of :class:`DataSet`, as TF 1.x's
``tensorflow/contrib/learn/python/learn/datasets/mnist.py`` (r1.15) did, with
one difference: it never downloads. ``train_dir`` must hold the four files
:data:`FILES` (gzipped, or the same names without ``.gz``); otherwise
:class:`MNISTFilesNotFoundError` names the directory and the files.

Arrays (``N`` examples; ``R``, ``C`` image rows and columns, 28 for MNIST):

- images: ``uint8`` ``(N, R, C, 1)`` as stored, reshaped to ``(N, R*C)``
  unless ``reshape=False``; with ``dtype=float32`` (the default) scaled into
  ``[0, 1]`` as ``float32(pixel) * (1.0 / 255.0)``;
- labels: ``uint8`` ``(N,)``, or with ``one_hot=True`` ``float64`` ``(N, 10)``;
- validation: the first ``validation_size`` training examples; train: the rest.

Randomness, the same NumPy calls in the same order as TF 1.x, so a seeded run
draws the same batches:

1. every :class:`DataSet` constructor calls ``numpy.random.seed(s)``: with
   ``seed=None``, ``s`` is the graph-level seed (``tf.set_random_seed``) if
   TensorFlow is imported and one is set, else ``None`` (fresh entropy: a
   ``numpy.random.seed`` made *before* ``read_data_sets`` does not carry
   over, in TF 1.x either); with a ``seed``, ``s`` is that seed. Seeds are
   taken modulo ``2**31 - 1`` as TF's ``get_seed`` did;
2. :meth:`DataSet.next_batch` with ``shuffle=True`` calls
   ``numpy.random.shuffle(numpy.arange(N))`` at the first batch of the first
   epoch, and again each time a batch crosses the end of an epoch, and
   reorders images and labels by that permutation.
"""

from __future__ import annotations

import collections
import gzip
import os
import struct
import sys
from typing import Any, Optional, Tuple

import numpy as np

__all__ = ["DataSet", "Datasets", "MNISTFilesNotFoundError", "read_data_sets", "FILES"]

# Where TF 1.x downloaded from; accepted for its signature, never contacted.
DEFAULT_SOURCE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

# IDX magic numbers: 0x0803 (uint8, 3 dimensions) and 0x0801 (uint8, 1 dimension).
IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
NUM_CLASSES = 10
FAKE_NUM_EXAMPLES = 10000  # what TF 1.x's fake data sets reported
_FAKE_PIXELS = 784

# TF's get_seed: seeds are taken modulo this, and (0, 0) becomes (0, _MAXINT32).
_MAXINT32 = 2**31 - 1

Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])


class MNISTFilesNotFoundError(FileNotFoundError):
    """``train_dir`` lacks MNIST files; tf1_lstm never downloads them."""


def _graph_level_seed() -> Optional[int]:
    """The graph-level seed TF's ``get_seed`` would see, or ``None``.

    Read from TensorFlow only if it is already imported (a legacy script's
    ``import tensorflow`` did that); without it no graph seed can be set.
    Unlike TF 2's ``get_seed``, this does not advance the graph's op-seed
    counter, which TF 1.x's did not have.
    """
    tf = sys.modules.get("tensorflow")
    v1 = getattr(getattr(tf, "compat", None), "v1", None)
    if v1 is None:
        return None
    if v1.executing_eagerly():
        context = sys.modules.get("tensorflow.python.eager.context")
        return context.global_seed() if context is not None else None
    return v1.get_default_graph().seed


def _numpy_seed(seed: Optional[int]) -> Optional[int]:
    """What TF 1.x's DataSet passed to ``numpy.random.seed`` for op-level ``seed``."""
    graph_seed = _graph_level_seed()
    if seed is None:  # TF1 used the first of get_seed's pair, the graph seed
        return None if graph_seed is None else graph_seed % _MAXINT32
    if graph_seed is not None and graph_seed % _MAXINT32 == 0 and seed % _MAXINT32 == 0:
        return _MAXINT32
    return seed % _MAXINT32


def _image_dtype(dtype: Any) -> np.dtype:
    """``uint8`` or ``float32`` from a NumPy dtype, a name, or a TF dtype (by ``as_numpy_dtype``).

    Raises:
      TypeError: any other dtype.
    """
    given = dtype
    dtype = getattr(dtype, "as_numpy_dtype", dtype)
    if isinstance(dtype, str) and dtype == "float":  # TF's name for float32
        dtype = np.float32
    try:
        resolved = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        resolved = None
    if resolved not in (np.dtype(np.uint8), np.dtype(np.float32)):
        raise TypeError(f"Invalid image dtype {given!r}, expected uint8 or float32")
    return resolved


class DataSet:
    """Images and labels of one split, served in batches by :meth:`next_batch`."""

    def __init__(self, images: Any, labels: Any, fake_data: bool = False, one_hot: bool = False,
                 dtype: Any = np.float32, reshape: bool = True, seed: Optional[int] = None) -> None:
        """Wraps ``images`` ``(N, R, C, 1)`` and ``labels`` ``(N,)`` or ``(N, 10)``.

        Reseeds NumPy's global RNG first (see the module docstring), as TF 1.x did.

        Args:
          images: ``uint8`` array ``(N, R, C, 1)``; ignored with ``fake_data``.
          labels: array with ``N`` rows; ignored with ``fake_data``.
          fake_data: serve constant fake batches (``N`` = 10000).
          one_hot: the form of the fake labels (real labels come encoded).
          dtype: ``float32`` scales images into ``[0, 1]``; ``uint8`` keeps them.
          reshape: flatten images to ``(N, R*C)``.
          seed: op-level seed for the shuffles.

        Raises:
          TypeError: ``dtype`` is neither ``uint8`` nor ``float32``.
          ValueError: images and labels differ in ``N``, or ``reshape`` with
            images of depth other than 1.
        """
        np.random.seed(_numpy_seed(seed))
        dtype = _image_dtype(dtype)
        self.one_hot = one_hot
        if fake_data:
            self._num_examples = FAKE_NUM_EXAMPLES
        else:
            if images.shape[0] != labels.shape[0]:
                raise ValueError(f"images and labels differ in number of examples: "
                                 f"images.shape {images.shape}, labels.shape {labels.shape}")
            self._num_examples = images.shape[0]
            if reshape:
                if images.ndim != 4 or images.shape[3] != 1:
                    raise ValueError(f"reshape=True needs images of shape (N, rows, cols, 1), "
                                     f"got {images.shape}")
                images = images.reshape(images.shape[0], images.shape[1] * images.shape[2])
            if dtype == np.float32:
                images = images.astype(np.float32) * (1.0 / 255.0)  # stays float32
        self._images = images
        self._labels = labels
        self._epochs_completed = 0
        self._index_in_epoch = 0

    @property
    def images(self):
        return self._images

    @property
    def labels(self):
        return self._labels

    @property
    def num_examples(self) -> int:
        return self._num_examples

    @property
    def epochs_completed(self) -> int:
        return self._epochs_completed

    def _permute(self) -> None:
        order = np.arange(self._num_examples)
        np.random.shuffle(order)
        self._images = self._images[order]
        self._labels = self._labels[order]

    def next_batch(self, batch_size: int, fake_data: bool = False,
                   shuffle: bool = True) -> Tuple[Any, Any]:
        """The next ``batch_size`` images and labels.

        The first call of the first epoch shuffles (with ``shuffle``). A batch
        that crosses the end of the epoch takes the rest of the epoch, counts
        the epoch as completed, shuffles again (with ``shuffle``), and fills up
        from the start of the new epoch.

        With ``fake_data``: lists of ``batch_size`` images of 784 ones and
        labels ``0`` (``[1, 0, ..., 0]`` if ``one_hot``).
        """
        if fake_data:
            label = [1] + [0] * (NUM_CLASSES - 1) if self.one_hot else 0
            return [[1] * _FAKE_PIXELS for _ in range(batch_size)], [label for _ in range(batch_size)]
        start = self._index_in_epoch
        if shuffle and self._epochs_completed == 0 and start == 0:
            self._permute()
        if start + batch_size <= self._num_examples:
            self._index_in_epoch = start + batch_size
            return self._images[start:self._index_in_epoch], self._labels[start:self._index_in_epoch]
        self._epochs_completed += 1
        images_rest = self._images[start:self._num_examples]
        labels_rest = self._labels[start:self._num_examples]
        if shuffle:
            self._permute()
        self._index_in_epoch = batch_size - (self._num_examples - start)
        end = self._index_in_epoch
        return (np.concatenate((images_rest, self._images[0:end]), axis=0),
                np.concatenate((labels_rest, self._labels[0:end]), axis=0))


def _locate(train_dir: str) -> Tuple[str, ...]:
    """The path of each of :data:`FILES` in ``train_dir``, gzipped name preferred.

    Raises:
      MNISTFilesNotFoundError: any of them is missing, under both names.
    """
    paths, missing = [], []
    for name in FILES:
        found = [path for path in (os.path.join(train_dir, name), os.path.join(train_dir, name[:-3]))
                 if os.path.isfile(path)]
        if found:
            paths.append(found[0])
        else:
            missing.append(name)
    if missing:
        absent = ("no MNIST files" if len(missing) == len(FILES)
                  else f"MNIST files missing: {', '.join(missing)}")
        raise MNISTFilesNotFoundError(
            f"{train_dir}: {absent}; read_data_sets reads {', '.join(FILES)} from there "
            f"(gzipped, or the same names without .gz) and tf1_lstm never downloads: "
            f"copy them into {train_dir}")
    return tuple(paths)


def _read_idx(path: str, magic: int, ndim: int, kind: str) -> np.ndarray:
    """The ``uint8`` array of an IDX file (gzipped or not) whose magic number must be ``magic``.

    Raises:
      ValueError: a corrupt gzip stream, a wrong magic number, or fewer bytes
        than the header announces.
    """
    print("Extracting", path)
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path}: not a readable gzip file ({exc})") from None
    header = 4 * (1 + ndim)
    if len(data) < header:
        raise ValueError(f"{path}: {len(data)} bytes, too short for the header of an MNIST "
                         f"{kind} file ({header} bytes)")
    found, *dims = struct.unpack(f">{1 + ndim}I", data[:header])
    if found != magic:
        raise ValueError(f"Invalid magic number {found} in MNIST {kind} file: {path} "
                         f"(expected {magic})")
    size = int(np.prod(dims))
    body = data[header:header + size]
    if len(body) < size:
        raise ValueError(f"{path}: header announces {kind}s of shape {tuple(dims)} "
                         f"({size} bytes), the file holds {len(body)}")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _one_hot(labels: np.ndarray, path: str, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """``(N,)`` class ids as ``(N, num_classes)`` one-hot rows.

    Raises:
      ValueError: a label outside ``0..num_classes-1`` (TF 1.x silently set
        the wrong row's entry).
    """
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"{path}: label {labels.max()} outside 0..{num_classes - 1}, "
                         f"cannot be one-hot encoded")
    encoded = np.zeros((labels.shape[0], num_classes))  # (N, 10) float64, as TF 1.x
    encoded[np.arange(labels.shape[0]), labels] = 1
    return encoded


def read_data_sets(train_dir: str, fake_data: bool = False, one_hot: bool = False,
                   dtype: Any = np.float32, reshape: bool = True, validation_size: int = 5000,
                   seed: Optional[int] = None,
                   source_url: str = DEFAULT_SOURCE_URL) -> Datasets:
    """MNIST from the files in ``train_dir`` as ``Datasets(train, validation, test)``.

    Args:
      train_dir: directory holding :data:`FILES` (or their names without ``.gz``).
      fake_data: three fake data sets instead (no files read).
      one_hot: labels as ``(N, 10)`` one-hot rows.
      dtype: ``float32`` (images in ``[0, 1]``) or ``uint8`` (``0..255``).
      reshape: images as ``(N, 784)`` rather than ``(N, 28, 28, 1)``.
      validation_size: how many of the first training examples form ``validation``.
      seed: op-level seed for the shuffles (see the module docstring).
      source_url: accepted for TF 1.x's signature; nothing is downloaded.

    Raises:
      MNISTFilesNotFoundError: a file is missing.
      ValueError: a bad file, or ``validation_size`` outside ``0..N``.
      TypeError: an unsupported ``dtype``.
    """
    del source_url  # TF 1.x downloaded from it; tf1_lstm never does
    if fake_data:
        return Datasets(*(DataSet([], [], fake_data=True, one_hot=one_hot, dtype=dtype, seed=seed)
                          for _ in range(3)))
    train_images_path, train_labels_path, test_images_path, test_labels_path = _locate(train_dir)

    def images(path: str) -> np.ndarray:
        return _read_idx(path, IMAGES_MAGIC, 3, "image")[..., np.newaxis]  # (N, R, C, 1)

    def labels(path: str) -> np.ndarray:
        dense = _read_idx(path, LABELS_MAGIC, 1, "label")  # (N,)
        return _one_hot(dense, path) if one_hot else dense

    train_images, train_labels = images(train_images_path), labels(train_labels_path)
    test_images, test_labels = images(test_images_path), labels(test_labels_path)
    if not 0 <= validation_size <= len(train_images):
        raise ValueError(f"Validation size should be between 0 and {len(train_images)}. "
                         f"Received: {validation_size}.")
    options = dict(dtype=dtype, reshape=reshape, seed=seed)
    return Datasets(
        train=DataSet(train_images[validation_size:], train_labels[validation_size:], **options),
        validation=DataSet(train_images[:validation_size], train_labels[:validation_size], **options),
        test=DataSet(test_images, test_labels, **options))
