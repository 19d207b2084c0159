"""Stacked LSTM with dropout inside dynamic_rnn and a fed keep probability (TF 1.x style).

DropoutWrapper on the inputs, outputs and states of each layer of a
MultiRNNCell, seeded by the graph seed only; keep_prob is a placeholder fed
0.5 while training and 1.0 when evaluating. The random masks are drawn
inside dynamic_rnn's while loop on every step. Written for tf1_lstm's tests;
knows nothing of tf1_lstm.

    python dropout_lm.py --steps 4
"""
from __future__ import print_function

import argparse

import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=4)
parser.add_argument("--units", type=int, default=16)
args = parser.parse_args()

data = np.sin(np.arange(0, 40, 0.25)).astype(np.float32)
x_np = np.stack([data[i:i + 10] for i in range(0, 120, 4)])[:, :, None]  # (30, 10, 1)
y_np = np.stack([data[i + 1:i + 11] for i in range(0, 120, 4)])[:, :, None]

x = tf.placeholder(tf.float32, [None, 10, 1])
y = tf.placeholder(tf.float32, [None, 10, 1])
keep_prob = tf.placeholder(tf.float32, [])
cells = []
for _ in range(2):
    cell = tf.nn.rnn_cell.LSTMCell(args.units)
    cell = tf.nn.rnn_cell.DropoutWrapper(cell, input_keep_prob=keep_prob,
                                         output_keep_prob=keep_prob, state_keep_prob=keep_prob)
    cells.append(cell)
outputs, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell(cells), x, dtype=tf.float32)
pred = tf.layers.dense(outputs, 1)
loss = tf.reduce_mean(tf.square(pred - y))
train = tf.train.AdamOptimizer(0.01).minimize(loss)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(args.steps):
        _, l = sess.run([train, loss], {x: x_np, y: y_np, keep_prob: 0.5})
        print("step %d train loss %.5f" % (step, l))
    print("eval loss %.5f" % sess.run(loss, {x: x_np, y: y_np, keep_prob: 1.0}))
