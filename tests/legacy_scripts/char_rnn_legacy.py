"""Character-level LSTM language model in the char-rnn style of 2016-2017 (TF 1.x).

legacy_seq2seq.rnn_decoder over a list of embedded inputs (with a
loop_function for sampling), sequence_loss_by_example, gradient clipping,
scalar and histogram summaries written with a FileWriter, a Saver checkpoint
found again with get_checkpoint_state and restored into a sampling model
built under the same scope. Written for tf1_lstm's tests; knows nothing of
tf1_lstm.

    python char_rnn_legacy.py --save_dir save --num_steps 4 --sample_len 12
"""
from __future__ import print_function

import argparse
import os

import numpy as np
import tensorflow as tf
from tensorflow.contrib import legacy_seq2seq
from tensorflow.contrib import rnn

TEXT = ("the quick brown fox jumps over the lazy dog. " * 8)


class Model(object):
    def __init__(self, args, vocab_size, training=True):
        batch_size, seq_length = (args.batch_size, args.seq_length) if training else (1, 1)
        cells = [rnn.LSTMCell(args.rnn_size) for _ in range(args.num_layers)]
        self.cell = cell = rnn.MultiRNNCell(cells, state_is_tuple=True)
        self.input_data = tf.placeholder(tf.int32, [batch_size, seq_length])
        self.targets = tf.placeholder(tf.int32, [batch_size, seq_length])
        self.initial_state = cell.zero_state(batch_size, tf.float32)
        with tf.variable_scope("rnnlm"):
            softmax_w = tf.get_variable("softmax_w", [args.rnn_size, vocab_size])
            softmax_b = tf.get_variable("softmax_b", [vocab_size])
        embedding = tf.get_variable("embedding", [vocab_size, args.rnn_size])
        inputs = tf.nn.embedding_lookup(embedding, self.input_data)
        inputs = tf.split(inputs, seq_length, 1)
        inputs = [tf.squeeze(input_, [1]) for input_ in inputs]

        def loop(prev, _):
            prev = tf.matmul(prev, softmax_w) + softmax_b
            prev_symbol = tf.stop_gradient(tf.argmax(prev, 1))
            return tf.nn.embedding_lookup(embedding, prev_symbol)

        outputs, last_state = legacy_seq2seq.rnn_decoder(
            inputs, self.initial_state, cell, loop_function=loop if not training else None,
            scope="rnnlm")
        output = tf.reshape(tf.concat(outputs, 1), [-1, args.rnn_size])
        self.logits = tf.matmul(output, softmax_w) + softmax_b
        self.probs = tf.nn.softmax(self.logits)
        self.final_state = last_state
        if not training:
            return
        loss = legacy_seq2seq.sequence_loss_by_example(
            [self.logits], [tf.reshape(self.targets, [-1])],
            [tf.ones([batch_size * seq_length])])
        self.cost = tf.reduce_sum(loss) / batch_size / seq_length
        self.lr = tf.Variable(0.0, trainable=False)
        tvars = tf.trainable_variables()
        grads, _ = tf.clip_by_global_norm(tf.gradients(self.cost, tvars), 5.0)
        optimizer = tf.train.AdamOptimizer(self.lr)
        self.train_op = optimizer.apply_gradients(zip(grads, tvars))
        tf.summary.histogram("logits", self.logits)
        tf.summary.scalar("train_loss", self.cost)


def batches(data, batch_size, seq_length):
    n = len(data) // (batch_size * seq_length)
    x = np.array(data[:n * batch_size * seq_length])
    y = np.roll(x, -1)
    xs = np.split(x.reshape(batch_size, -1), n, 1)
    ys = np.split(y.reshape(batch_size, -1), n, 1)
    return list(zip(xs, ys))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--save_dir", default="save")
    parser.add_argument("--rnn_size", type=int, default=16)
    parser.add_argument("--num_layers", type=int, default=2)
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--seq_length", type=int, default=8)
    parser.add_argument("--num_steps", type=int, default=4)
    parser.add_argument("--learning_rate", type=float, default=0.01)
    parser.add_argument("--sample_len", type=int, default=12)
    args = parser.parse_args()

    chars = sorted(set(TEXT))
    vocab = dict((c, i) for i, c in enumerate(chars))
    data = [vocab[c] for c in TEXT]
    if not os.path.isdir(args.save_dir):
        os.makedirs(args.save_dir)

    model = Model(args, len(chars))
    with tf.Session() as sess:
        summaries = tf.summary.merge_all()
        writer = tf.summary.FileWriter(os.path.join(args.save_dir, "logs"), sess.graph)
        sess.run(tf.global_variables_initializer())
        saver = tf.train.Saver(tf.global_variables())
        sess.run(tf.assign(model.lr, args.learning_rate))
        state = sess.run(model.initial_state)
        pairs = batches(data, args.batch_size, args.seq_length)
        for step in range(args.num_steps):
            x, y = pairs[step % len(pairs)]
            feed = {model.input_data: x, model.targets: y}
            for i, (c, h) in enumerate(model.initial_state):
                feed[c] = state[i].c
                feed[h] = state[i].h
            summ, loss, state, _ = sess.run(
                [summaries, model.cost, model.final_state, model.train_op], feed)
            writer.add_summary(summ, step)
            print("{}/{}, train_loss = {:.3f}".format(step, args.num_steps, loss))
        saver.save(sess, os.path.join(args.save_dir, "model.ckpt"), global_step=args.num_steps)
        writer.close()

    tf.reset_default_graph()
    sampler = Model(args, len(chars), training=False)
    with tf.Session() as sess:
        saver = tf.train.Saver(tf.global_variables())
        ckpt = tf.train.get_checkpoint_state(args.save_dir)
        saver.restore(sess, ckpt.model_checkpoint_path)
        state = sess.run(sampler.cell.zero_state(1, tf.float32))
        char, text = "t", "t"
        for _ in range(args.sample_len):
            feed = {sampler.input_data: [[vocab[char]]], sampler.initial_state: state}
            probs, state = sess.run([sampler.probs, sampler.final_state], feed)
            char = chars[int(np.argmax(probs[0]))]
            text += char
        print("sample:", text)


if __name__ == "__main__":
    main()
