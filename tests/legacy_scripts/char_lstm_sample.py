"""Character-level LSTM: train a few steps on a tiny text, then sample from it (TF 1.x style).

The shape of the classic char-rnn scripts of 2016-2017: a model class built
twice under one variable scope (training, and sampling with batch 1 and one
step), a feed of the whole LSTM state tuple on every step, and NumPy's
weighted pick between the steps. Written for tf1_lstm's tests; knows nothing
of tf1_lstm.

    python char_lstm_sample.py --train-steps 3 --length 20 --prime "to be"
"""
from __future__ import print_function

import argparse

import numpy as np
import tensorflow as tf
from tensorflow.contrib import rnn

TEXT = ("to be, or not to be, that is the question: whether 'tis nobler in the mind "
        "to suffer the slings and arrows of outrageous fortune, or to take arms against "
        "a sea of troubles and by opposing end them. ")


class CharModel(object):
    def __init__(self, vocab_size, num_units, num_layers, batch_size, seq_length,
                 training=True):
        self.inputs = tf.placeholder(tf.int32, [batch_size, seq_length])
        self.targets = tf.placeholder(tf.int32, [batch_size, seq_length])
        cells = [rnn.BasicLSTMCell(num_units) for _ in range(num_layers)]
        self.cell = rnn.MultiRNNCell(cells, state_is_tuple=True)
        self.initial_state = self.cell.zero_state(batch_size, tf.float32)

        embedding = tf.get_variable("embedding", [vocab_size, num_units])
        softmax_w = tf.get_variable("softmax_w", [num_units, vocab_size])
        softmax_b = tf.get_variable("softmax_b", [vocab_size])
        emb = tf.nn.embedding_lookup(embedding, self.inputs)
        outputs, self.final_state = tf.nn.dynamic_rnn(
            self.cell, emb, initial_state=self.initial_state, scope="rnnlm")
        output = tf.reshape(outputs, [-1, num_units])
        self.logits = tf.matmul(output, softmax_w) + softmax_b
        self.probs = tf.nn.softmax(self.logits)
        if not training:
            return
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.reshape(self.targets, [-1]), logits=self.logits)
        self.cost = tf.reduce_mean(loss)
        tvars = tf.trainable_variables()
        grads, _ = tf.clip_by_global_norm(tf.gradients(self.cost, tvars), 5.0)
        self.train_op = tf.train.GradientDescentOptimizer(1.0).apply_gradients(zip(grads, tvars))


def weighted_pick(weights):
    t = np.cumsum(weights)
    s = np.sum(weights)
    return int(np.searchsorted(t, np.random.rand() * s))


def sample(sess, model, chars, vocab, length, prime):
    state = sess.run(model.cell.zero_state(1, tf.float32))
    for char in prime[:-1]:
        feed = {model.inputs: [[vocab[char]]], model.initial_state: state}
        state = sess.run(model.final_state, feed)
    text, char = prime, prime[-1]
    for _ in range(length):
        feed = {model.inputs: [[vocab[char]]], model.initial_state: state}
        probs, state = sess.run([model.probs, model.final_state], feed)
        char = chars[weighted_pick(probs[0])]
        text += char
    return text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--length", type=int, default=20)
    parser.add_argument("--prime", default="to be")
    parser.add_argument("--units", type=int, default=16)
    args = parser.parse_args()

    chars = sorted(set(TEXT))
    vocab = dict((c, i) for i, c in enumerate(chars))
    data = np.array([vocab[c] for c in TEXT], dtype=np.int32)
    batch_size, seq_length = 4, 10

    with tf.variable_scope("model"):
        train_model = CharModel(len(chars), args.units, 2, batch_size, seq_length)
    with tf.variable_scope("model", reuse=True):
        sample_model = CharModel(len(chars), args.units, 2, 1, 1, training=False)

    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    for step in range(args.train_steps):
        starts = np.random.randint(0, len(data) - seq_length - 1, size=batch_size)
        x = np.stack([data[s:s + seq_length] for s in starts])
        y = np.stack([data[s + 1:s + seq_length + 1] for s in starts])
        cost, _ = sess.run([train_model.cost, train_model.train_op],
                           {train_model.inputs: x, train_model.targets: y})
        print("step {}: cost {:.4f}".format(step, cost))
    print(repr(sample(sess, sample_model, chars, vocab, args.length, args.prime)))


if __name__ == "__main__":
    main()
