"""TF 1.x's ``tf.contrib.framework``: tf-slim's variables and ``arg_scope``, and ``nest``.

``arg_scope``, ``add_arg_scope``, ``get_or_create_global_step``,
``get_variables``, ``model_variable``, ``get_variables_to_restore``,
``assign_from_checkpoint_fn``, ... resolve to tf-slim (where they moved);
``nest`` is TensorFlow's own ``tensorflow.python.util.nest`` (TF 1.x's
``tf.contrib.framework.nest`` was that module); ``is_tensor`` is
``tf.is_tensor``.
"""

from __future__ import annotations

from typing import List

from .. import tfcompat

tf = tfcompat.load()

is_tensor = tf.is_tensor


def __getattr__(name: str):
    if name == "nest":
        from tensorflow.python.util import nest

        return nest
    try:
        import tf_slim
    except ImportError:
        raise ImportError("tf.contrib.framework is served by tf-slim: pip install tf-slim") \
            from None
    if not name.startswith("_") and hasattr(tf_slim, name):
        return getattr(tf_slim, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> List[str]:
    import tf_slim

    return sorted({n for n in dir(tf_slim) if not n.startswith("_")} | {"nest", "is_tensor"})
