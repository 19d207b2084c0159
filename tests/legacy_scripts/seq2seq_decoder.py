"""Encoder-decoder with tf.contrib.seq2seq's decoding API (TF 1.4-1.15 style).

An LSTM encoder through dynamic_rnn; a decoder trained with TrainingHelper +
BasicDecoder + dynamic_decode and an output Dense layer, weighted by a
sequence mask in sequence_loss; greedy inference with GreedyEmbeddingHelper
sharing the decoder's variables, stopped at the end token or at
maximum_iterations. Written for tf1_lstm's tests; knows nothing of tf1_lstm.

    python seq2seq_decoder.py --steps 5
"""
from __future__ import print_function

import argparse

import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=5)
parser.add_argument("--units", type=int, default=16)
args = parser.parse_args()

VOCAB, GO, EOS, EMB = 12, 1, 2, 8
rng = np.random.RandomState(1)
src = rng.randint(3, VOCAB, size=(6, 5)).astype(np.int32)
src_len = np.array([5, 4, 5, 3, 5, 2], np.int32)
tgt_out = np.concatenate([src[:, ::-1], np.full((6, 1), EOS, np.int32)], 1)
tgt_in = np.concatenate([np.full((6, 1), GO, np.int32), src[:, ::-1]], 1)
tgt_len = src_len + 1

enc_in = tf.placeholder(tf.int32, [None, None], name="encoder_inputs")
enc_len = tf.placeholder(tf.int32, [None], name="encoder_lengths")
dec_in = tf.placeholder(tf.int32, [None, None], name="decoder_inputs")
dec_out = tf.placeholder(tf.int32, [None, None], name="decoder_outputs")
dec_len = tf.placeholder(tf.int32, [None], name="decoder_lengths")
batch = tf.shape(enc_in)[0]

embeddings = tf.get_variable("embeddings", [VOCAB, EMB])
with tf.variable_scope("encoder"):
    enc_cell = tf.nn.rnn_cell.LSTMCell(args.units)
    _, enc_state = tf.nn.dynamic_rnn(enc_cell, tf.nn.embedding_lookup(embeddings, enc_in),
                                     sequence_length=enc_len, dtype=tf.float32)

with tf.variable_scope("decoder"):
    dec_cell = tf.nn.rnn_cell.LSTMCell(args.units)
    projection = tf.layers.Dense(VOCAB, use_bias=False, name="output_projection")
    helper = tf.contrib.seq2seq.TrainingHelper(tf.nn.embedding_lookup(embeddings, dec_in),
                                               dec_len)
    decoder = tf.contrib.seq2seq.BasicDecoder(dec_cell, helper, enc_state,
                                              output_layer=projection)
    train_out, _, _ = tf.contrib.seq2seq.dynamic_decode(decoder)
    logits = train_out.rnn_output

with tf.variable_scope("decoder", reuse=True):
    greedy = tf.contrib.seq2seq.GreedyEmbeddingHelper(embeddings, tf.fill([batch], GO), EOS)
    infer = tf.contrib.seq2seq.BasicDecoder(dec_cell, greedy, enc_state, output_layer=projection)
    infer_out, _, infer_len = tf.contrib.seq2seq.dynamic_decode(infer, maximum_iterations=8)

mask = tf.sequence_mask(dec_len, tf.shape(dec_out)[1], dtype=tf.float32)
loss = tf.contrib.seq2seq.sequence_loss(logits, dec_out, mask)
train_op = tf.train.AdamOptimizer(0.01).minimize(loss)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    feed = {enc_in: src, enc_len: src_len, dec_in: tgt_in, dec_out: tgt_out, dec_len: tgt_len}
    for step in range(args.steps):
        _, l = sess.run([train_op, loss], feed)
        print("step %d loss %.4f" % (step, l))
    ids, lengths = sess.run([infer_out.sample_id, infer_len], {enc_in: src, enc_len: src_len})
    print("greedy ids", ids.shape, "lengths", lengths)
