"""Train a small recurrent classifier for a few Adam steps and save it with tf.train.Saver.

A TF 1.x program of the kind whose checkpoints get migrated: a
MultiRNNCell (or one cell) through dynamic_rnn under a variable scope, a
linear head on the last output, Adam. After training it runs the graph on a
fixed probe batch and writes what the graph computed, so a converted model
can be checked against the trained graph itself. Written for tf1_lstm's
tests; knows nothing of tf1_lstm.

    python train_and_save.py --out_dir model --cell lstm --layers 2 --head dense
"""
from __future__ import print_function

import argparse
import os

import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--out_dir", default="model")
parser.add_argument("--cell", default="lstm", choices=["lstm", "basic", "gru", "rnn", "block"])
parser.add_argument("--units", type=int, nargs="+", default=[6, 5])
parser.add_argument("--forget_bias", type=float, default=0.5)
parser.add_argument("--head", default="dense", choices=["dense", "slim", "none"])
parser.add_argument("--scope", default="encoder")
parser.add_argument("--activation", default="tanh", choices=["tanh", "relu"])
parser.add_argument("--time_major", action="store_true")
parser.add_argument("--steps", type=int, default=3)
parser.add_argument("--driver", default="dynamic", choices=["dynamic", "static"])
parser.add_argument("--rnn_scope", default=None, help="the driver's own scope= argument")
parser.add_argument("--cell_clip", type=float, default=None, help="LSTMBlockCell's cell_clip")
parser.add_argument("--head_relu", action="store_true", help="the head as fully_connected's "
                    "default: with relu")
parser.add_argument("--residual", action="store_true", help="a ResidualWrapper on the last layer")
args = parser.parse_args()

BATCH, TIME, DEPTH, CLASSES = 4, 7, 3, 3
activation = {"tanh": tf.tanh, "relu": tf.nn.relu}[args.activation]


def make_cell(units):
    if args.cell == "lstm":
        return tf.nn.rnn_cell.LSTMCell(units, forget_bias=args.forget_bias, activation=activation)
    if args.cell == "basic":
        return tf.contrib.rnn.BasicLSTMCell(units, forget_bias=args.forget_bias,
                                            activation=activation)
    if args.cell == "block":
        return tf.contrib.rnn.LSTMBlockCell(units, forget_bias=args.forget_bias,
                                            cell_clip=args.cell_clip, use_peephole=True)
    if args.cell == "gru":
        return tf.nn.rnn_cell.GRUCell(units, activation=activation)
    return tf.nn.rnn_cell.BasicRNNCell(units, activation=activation)


shape = [TIME, None, DEPTH] if args.time_major else [None, TIME, DEPTH]
x = tf.placeholder(tf.float32, shape, name="x")
y = tf.placeholder(tf.int32, [None], name="y")
with tf.variable_scope(args.scope):
    cells = [make_cell(n) for n in args.units]
    if args.residual:
        cells[-1] = tf.nn.rnn_cell.ResidualWrapper(cells[-1])
    cell = cells[0] if len(cells) == 1 else tf.nn.rnn_cell.MultiRNNCell(cells)
    if args.driver == "static":
        steps, state = tf.nn.static_rnn(cell, tf.unstack(x, axis=0 if args.time_major else 1),
                                        dtype=tf.float32, scope=args.rnn_scope)
        outputs = tf.stack(steps, axis=0 if args.time_major else 1)
    else:
        outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, time_major=args.time_major,
                                           scope=args.rnn_scope)
last = outputs[-1] if args.time_major else outputs[:, -1]
if args.head == "dense":
    logits = tf.layers.dense(last, CLASSES)
elif args.head == "slim":
    logits = tf.contrib.layers.fully_connected(
        last, CLASSES, activation_fn=tf.nn.relu if args.head_relu else None, scope="logits")
else:
    logits = tf.reduce_sum(last, axis=1, keepdims=True)
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y % CLASSES,
                                                                     logits=logits)) \
    if args.head != "none" else tf.reduce_mean(tf.square(logits))
global_step = tf.train.get_or_create_global_step()
train_op = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=global_step)

rng = np.random.RandomState(0)


def batch(n):
    data = rng.uniform(-1, 1, (n, TIME, DEPTH)).astype(np.float32)
    return data.transpose(1, 0, 2) if args.time_major else data


probe = np.random.RandomState(1).uniform(-1, 1, (2, TIME, DEPTH)).astype(np.float32)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(args.steps):
        _, value = sess.run([train_op, loss], {x: batch(BATCH), y: rng.randint(0, 9, BATCH)})
        print("step %d loss %.4f" % (step, value))
    if not os.path.isdir(args.out_dir):
        os.makedirs(args.out_dir)
    saved = tf.train.Saver().save(sess, os.path.join(args.out_dir, "model.ckpt"))
    feed = probe.transpose(1, 0, 2) if args.time_major else probe
    out, fin, lg = sess.run([outputs, state, logits], {x: feed})
    if args.time_major:
        out = out.transpose(1, 0, 2)
    finals = fin if isinstance(fin, tuple) and not hasattr(fin, "c") else (fin,)
    arrays = {"inputs": probe, "outputs": out}
    for k, layer in enumerate(finals):
        if hasattr(layer, "c"):
            arrays["state/%d/c" % k], arrays["state/%d/h" % k] = layer.c, layer.h
        else:
            arrays["state/%d/h" % k] = layer
    if args.head != "none":
        arrays["logits"] = lg
    np.savez(os.path.join(args.out_dir, "probe.npz"), **arrays)
    print("saved", saved)
