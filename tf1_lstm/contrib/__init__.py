"""TF 1.x's tf.contrib modules that RNN code used, one module each, mirroring TF1's layout; served to legacy scripts by tf1_lstm.runner.facade."""
