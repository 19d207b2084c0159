"""TF 1.x's ``tensorflow.examples``, which TensorFlow 2 no longer ships.

Served to legacy scripts by tf1_lstm.runner.facade, in TF1's layout.
"""
