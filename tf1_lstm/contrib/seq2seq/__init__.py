"""TF 1.x's ``tf.contrib.seq2seq``: dynamic decoders, attention and beam search, on tf.compat.v1.

One module per file of TF 1.15's ``tensorflow/contrib/seq2seq/python/ops/``,
with the same public names, signatures, defaults and variable names:

- :mod:`.loss`: ``sequence_loss``;
- :mod:`.decoder`: ``Decoder``, ``dynamic_decode``;
- :mod:`.helper`: ``Helper``, ``CustomHelper``, ``TrainingHelper``,
  ``GreedyEmbeddingHelper``, ``SampleEmbeddingHelper``,
  ``ScheduledEmbeddingTrainingHelper``, ``ScheduledOutputTrainingHelper``,
  ``InferenceHelper``;
- :mod:`.basic_decoder`: ``BasicDecoder``, ``BasicDecoderOutput``;
- :mod:`.attention_wrapper`: ``AttentionMechanism``, ``AttentionWrapper``,
  ``AttentionWrapperState``, ``BahdanauAttention``, ``LuongAttention``,
  ``BahdanauMonotonicAttention``, ``LuongMonotonicAttention``, ``hardmax``,
  ``safe_cumprod``, ``monotonic_attention``;
- :mod:`.beam_search_decoder`: ``BeamSearchDecoder``, ``BeamSearchDecoderOutput``,
  ``BeamSearchDecoderState``, ``FinalBeamSearchDecoderOutput``, ``tile_batch``;
- :mod:`.beam_search_ops`: ``gather_tree`` (graph ops; TensorFlow 2 ships no
  ``GatherTree`` kernel).

TF 1.15 kept the Keras-layer ``*V2`` classes of these files out of
``tf.contrib.seq2seq``; so does this package (TensorFlow Addons' ``tfa.seq2seq``
is their successor).
"""

from __future__ import annotations

from .attention_wrapper import (AttentionMechanism, AttentionWrapper, AttentionWrapperState,
                                BahdanauAttention, BahdanauMonotonicAttention, LuongAttention,
                                LuongMonotonicAttention, hardmax, monotonic_attention,
                                safe_cumprod)
from .basic_decoder import BasicDecoder, BasicDecoderOutput
from .beam_search_decoder import (BeamSearchDecoder, BeamSearchDecoderOutput,
                                  BeamSearchDecoderState, FinalBeamSearchDecoderOutput, tile_batch)
from .beam_search_ops import gather_tree
from .decoder import Decoder, dynamic_decode
from .helper import (CustomHelper, GreedyEmbeddingHelper, Helper, InferenceHelper,
                     SampleEmbeddingHelper, ScheduledEmbeddingTrainingHelper,
                     ScheduledOutputTrainingHelper, TrainingHelper)
from .loss import sequence_loss

# TF 1.15's tf.contrib.seq2seq._allowed_symbols.
__all__ = [
    "sequence_loss", "Decoder", "dynamic_decode", "BasicDecoder", "BasicDecoderOutput",
    "BeamSearchDecoder", "BeamSearchDecoderOutput", "BeamSearchDecoderState", "Helper",
    "CustomHelper", "FinalBeamSearchDecoderOutput", "gather_tree", "GreedyEmbeddingHelper",
    "InferenceHelper", "SampleEmbeddingHelper", "ScheduledEmbeddingTrainingHelper",
    "ScheduledOutputTrainingHelper", "TrainingHelper", "BahdanauAttention", "LuongAttention",
    "hardmax", "AttentionWrapperState", "AttentionWrapper", "AttentionMechanism", "tile_batch",
    "safe_cumprod", "monotonic_attention", "BahdanauMonotonicAttention",
    "LuongMonotonicAttention",
]


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(
        f"tf.contrib.seq2seq has no attribute {name!r}: TF 1.15's tf.contrib.seq2seq exported "
        f"only {', '.join(sorted(__all__))}; for the Keras-layer (V2) decoders use "
        f"TensorFlow Addons' tfa.seq2seq")
