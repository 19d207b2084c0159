"""TF 1.x's ``tensorflow.examples.tutorials``: the tutorial helpers legacy scripts imported."""
