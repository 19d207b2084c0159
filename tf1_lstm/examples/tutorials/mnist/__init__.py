"""TF 1.x's ``tensorflow.examples.tutorials.mnist``.

``input_data`` reads MNIST from local files; ``mnist`` builds the tutorial's model.
"""
