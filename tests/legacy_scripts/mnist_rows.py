"""MNIST read row by row with an LSTM through static_rnn, as the TF 1.x example repositories did.

input_data.read_data_sets with one_hot labels and next_batch; each 28x28
image is unstacked into 28 time steps of 28 pixels for
tf.contrib.rnn.static_rnn over a BasicLSTMCell; softmax cross entropy,
Adam, accuracy on the test images. Written for tf1_lstm's tests; knows
nothing of tf1_lstm.

    python mnist_rows.py --data_dir MNIST_data --steps 3
"""
from __future__ import print_function

import argparse

import tensorflow as tf
from tensorflow.contrib import rnn
from tensorflow.examples.tutorials.mnist import input_data

parser = argparse.ArgumentParser()
parser.add_argument("--data_dir", default="/tmp/data/")
parser.add_argument("--steps", type=int, default=3)
parser.add_argument("--batch_size", type=int, default=16)
parser.add_argument("--num_hidden", type=int, default=16)
FLAGS = parser.parse_args()

mnist = input_data.read_data_sets(FLAGS.data_dir, one_hot=True, validation_size=0)

timesteps, num_input, num_classes = 28, 28, 10
X = tf.placeholder("float", [None, timesteps, num_input])
Y = tf.placeholder("float", [None, num_classes])
weights = {"out": tf.Variable(tf.random_normal([FLAGS.num_hidden, num_classes]))}
biases = {"out": tf.Variable(tf.random_normal([num_classes]))}


def RNN(x, weights, biases):
    x = tf.unstack(x, timesteps, 1)
    lstm_cell = rnn.BasicLSTMCell(FLAGS.num_hidden, forget_bias=1.0)
    outputs, states = rnn.static_rnn(lstm_cell, x, dtype=tf.float32)
    return tf.matmul(outputs[-1], weights["out"]) + biases["out"]


logits = RNN(X, weights, biases)
prediction = tf.nn.softmax(logits)
loss_op = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=Y))
train_op = tf.train.AdamOptimizer(learning_rate=0.01).minimize(loss_op)
correct_pred = tf.equal(tf.argmax(prediction, 1), tf.argmax(Y, 1))
accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(1, FLAGS.steps + 1):
        batch_x, batch_y = mnist.train.next_batch(FLAGS.batch_size)
        batch_x = batch_x.reshape((FLAGS.batch_size, timesteps, num_input))
        sess.run(train_op, feed_dict={X: batch_x, Y: batch_y})
        loss, acc = sess.run([loss_op, accuracy], feed_dict={X: batch_x, Y: batch_y})
        print("Step " + str(step) + ", Minibatch Loss= " + "{:.4f}".format(loss)
              + ", Training Accuracy= " + "{:.3f}".format(acc))
    test_data = mnist.test.images.reshape((-1, timesteps, num_input))
    print("Testing Accuracy:", sess.run(accuracy, feed_dict={X: test_data, Y: mnist.test.labels}))
