"""The Keras 3 engine: a spec run by ``keras.layers.LSTM`` / ``RNN(StackedRNNCells)`` (TF backend).

The same engine as :mod:`tf1_lstm.engines.keras2`, on Keras 3, imported
beside tf-keras.
"""

from .keras2 import engine

ENGINE_NAME = "keras3"

run = engine(ENGINE_NAME)
