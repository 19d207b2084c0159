"""TF 1.x's ``tf.contrib.layers``, which moved out of TensorFlow as tf-slim.

tf-slim *is* what ``tf.contrib.layers`` became: ``fully_connected``,
``xavier_initializer``, ``variance_scaling_initializer``, ``l2_regularizer``,
``layer_norm``, ``batch_norm``, ``flatten``, ``optimize_loss``,
``summarize_*`` and the rest resolve to tf-slim's own functions (same
signatures, defaults and variable names as TF 1.x). Written here is only what
tf-slim lacks: ``embed_sequence`` and ``embedding_lookup_unique``.
"""

from __future__ import annotations

from typing import List

from .. import tfcompat

tf = tfcompat.load()
v1 = tf.compat.v1


def _slim():
    try:
        import tf_slim
    except ImportError:
        raise ImportError("tf.contrib.layers is served by tf-slim: pip install tf-slim") from None
    return tf_slim


def embedding_lookup_unique(params, ids, name=None):
    """``params[ids]`` for ``ids`` of any shape, looking each distinct id up once.

    Returns:
      ``ids.shape + params.shape[1:]``.
    """
    with tf.name_scope(name or "EmbeddingLookupUnique"):
        ids = tf.convert_to_tensor(ids)
        flat = tf.reshape(ids, [-1])
        unique, index = tf.unique(flat)
        rows = tf.gather(params, unique)  # (U, E)
        embedded = tf.gather(rows, index)  # (N, E)
        return tf.reshape(embedded, tf.concat([tf.shape(ids), tf.shape(embedded)[1:]], 0))


def embed_sequence(ids, vocab_size=None, embed_dim=None, unique=False, initializer=None,
                   regularizer=None, trainable=True, scope=None, reuse=None):
    """Embed ids ``(B, T)`` into ``(B, T, embed_dim)``: TF 1.x's ``tf.contrib.layers.embed_sequence``.

    The table is the model variable ``<scope or EmbedSequence>/embeddings``
    ``(vocab_size, embed_dim)``; ``unique`` looks each distinct id up once.

    Raises:
      ValueError: ``vocab_size`` or ``embed_dim`` missing.
    """
    if not (reuse or (vocab_size and embed_dim)):
        raise ValueError("Must specify vocab size and embedding dimension when not reusing. "
                         f"Got vocab_size={vocab_size} and embed_dim={embed_dim}")
    with v1.variable_scope(scope, "EmbedSequence", [ids], reuse=reuse):
        shape = [vocab_size, embed_dim]
        if reuse and (vocab_size is None or embed_dim is None):
            shape = None
        embeddings = _slim().model_variable("embeddings", shape=shape, initializer=initializer,
                                            regularizer=regularizer, trainable=trainable)
        if unique:
            return embedding_lookup_unique(embeddings, ids)
        return tf.nn.embedding_lookup(embeddings, ids)


def __getattr__(name: str):
    slim = _slim()
    for module in (slim.layers, slim):
        if not name.startswith("_") and hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> List[str]:
    slim = _slim()
    names = {n for m in (slim.layers, slim) for n in dir(m) if not n.startswith("_")}
    return sorted(names | {"embed_sequence", "embedding_lookup_unique"})
