"""LSTM sequence classifier, TF 1.x style (written for tf1_lstm's tests; knows nothing of tf1_lstm).

Labels synthetic sequences by the sign of their sum, trains a few Adam steps
with an LSTM (tf.contrib.rnn), dropout and two tf-slim fully connected
layers, saves a checkpoint with tf.train.Saver, restores it into a fresh
session and evaluates. Unseeded, like most scripts of its time.

    python lstm_classifier.py --steps 5 --logdir /tmp/clf
"""
from __future__ import print_function

import argparse
import os
import tempfile

import numpy as np
import tensorflow as tf

slim = tf.contrib.slim

SEQ_LEN, DEPTH, NUM_CLASSES = 6, 3, 2


def make_data(n):
    x = np.random.randn(n, SEQ_LEN, DEPTH).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.int64)
    return x, y


def build_model(inputs, num_units, keep_prob):
    with tf.variable_scope("classifier"):
        cell = tf.contrib.rnn.LSTMCell(num_units)
        cell = tf.contrib.rnn.DropoutWrapper(cell, output_keep_prob=keep_prob)
        _, state = tf.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
        net = slim.fully_connected(state.h, 16, scope="fc1")
        logits = slim.fully_connected(net, NUM_CLASSES, activation_fn=None, scope="logits")
    return logits


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--units", type=int, default=8)
    parser.add_argument("--logdir", default=None)
    args = parser.parse_args()
    logdir = args.logdir or tempfile.mkdtemp(prefix="lstm_classifier_")
    if not os.path.exists(logdir):
        os.makedirs(logdir)

    x_train, y_train = make_data(64)
    x_test, y_test = make_data(16)

    tf.reset_default_graph()
    inputs = tf.placeholder(tf.float32, [None, None, DEPTH], name="inputs")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    keep_prob = tf.placeholder_with_default(1.0, [], name="keep_prob")
    logits = build_model(inputs, args.units, keep_prob)
    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(0.01).minimize(loss, global_step=global_step)
    correct = tf.equal(tf.argmax(logits, 1), labels)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    saver = tf.train.Saver()

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(args.steps):
            idx = np.random.choice(len(x_train), args.batch, replace=False)
            _, loss_value = sess.run([train_op, loss], feed_dict={
                inputs: x_train[idx], labels: y_train[idx], keep_prob: 0.8})
            print("step %d: loss %.4f" % (step, loss_value))
        path = saver.save(sess, os.path.join(logdir, "model.ckpt"), global_step=global_step)

    with tf.Session() as sess:
        saver.restore(sess, path)
        acc, test_logits = sess.run([accuracy, logits], {inputs: x_test, labels: y_test})
        print("test accuracy %.3f on %d sequences" % (acc, len(test_logits)))
        print("global step %d" % global_step.eval())


if __name__ == "__main__":
    main()
