"""tf1_lstm: TF1 graph-mode LSTM reference suite.

Importing this package does not import TensorFlow and changes no global state;
:mod:`tf1_lstm.tfcompat` loads TensorFlow on first use.
"""

__version__ = "0.1.0"
