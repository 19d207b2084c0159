"""Word-level LSTM language model in the style of TF 1.x's PTB tutorial.

tf.flags and tf.app.run; a queue-runner input pipeline
(tf.train.range_input_producer); a learning rate kept in a non-trainable
variable assigned through a placeholder; the model's tensors exported into
collections, the meta graph written with export_meta_graph and imported into
a fresh graph, where the learning rate comes back from its collection; a
tf.train.Supervisor running the training; and a MonitoredTrainingSession
evaluation. Written for tf1_lstm's tests; knows nothing of tf1_lstm.

    python word_lm_flags.py --save_path out --max_steps 3
"""
from __future__ import print_function

import os

import numpy as np
import tensorflow as tf

flags = tf.flags
flags.DEFINE_string("save_path", "lm_out", "Where to write the model and the meta graph.")
flags.DEFINE_integer("max_steps", 3, "Training steps.")
flags.DEFINE_integer("hidden_size", 12, "LSTM units.")
flags.DEFINE_float("keep_prob", 0.8, "Dropout keep probability.")
FLAGS = flags.FLAGS

VOCAB, BATCH, STEPS = 20, 4, 5


def producer(raw_data, batch_size, num_steps, name=None):
    with tf.name_scope(name, "Producer", [raw_data, batch_size, num_steps]):
        raw_data = tf.convert_to_tensor(raw_data, name="raw_data", dtype=tf.int32)
        data_len = tf.size(raw_data)
        batch_len = data_len // batch_size
        data = tf.reshape(raw_data[0: batch_size * batch_len], [batch_size, batch_len])
        epoch_size = (batch_len - 1) // num_steps
        i = tf.train.range_input_producer(epoch_size, shuffle=False).dequeue()
        x = tf.strided_slice(data, [0, i * num_steps], [batch_size, (i + 1) * num_steps])
        x.set_shape([batch_size, num_steps])
        y = tf.strided_slice(data, [0, i * num_steps + 1], [batch_size, (i + 1) * num_steps + 1])
        y.set_shape([batch_size, num_steps])
        return x, y


class LM(object):
    def __init__(self, is_training, inputs, targets):
        size = FLAGS.hidden_size
        embedding = tf.get_variable("embedding", [VOCAB, size], dtype=tf.float32)
        emb = tf.nn.embedding_lookup(embedding, inputs)

        def make_cell():
            cell = tf.contrib.rnn.BasicLSTMCell(size, forget_bias=0.0, state_is_tuple=True,
                                                reuse=tf.get_variable_scope().reuse)
            if is_training and FLAGS.keep_prob < 1:
                cell = tf.contrib.rnn.DropoutWrapper(cell, output_keep_prob=FLAGS.keep_prob)
            return cell

        cell = tf.contrib.rnn.MultiRNNCell([make_cell() for _ in range(2)], state_is_tuple=True)
        self.initial_state = cell.zero_state(BATCH, tf.float32)
        outputs, state = tf.nn.dynamic_rnn(cell, emb, initial_state=self.initial_state)
        output = tf.reshape(outputs, [-1, size])
        softmax_w = tf.get_variable("softmax_w", [size, VOCAB], dtype=tf.float32)
        softmax_b = tf.get_variable("softmax_b", [VOCAB], dtype=tf.float32)
        logits = tf.reshape(tf.nn.xw_plus_b(output, softmax_w, softmax_b), [BATCH, STEPS, VOCAB])
        loss = tf.contrib.seq2seq.sequence_loss(
            logits, targets, tf.ones([BATCH, STEPS], dtype=tf.float32),
            average_across_timesteps=False, average_across_batch=True)
        self.cost = tf.reduce_sum(loss)
        self.final_state = state
        if not is_training:
            return
        self.lr = tf.Variable(0.0, trainable=False)
        tvars = tf.trainable_variables()
        grads, _ = tf.clip_by_global_norm(tf.gradients(self.cost, tvars), 5)
        optimizer = tf.train.GradientDescentOptimizer(self.lr)
        self.train_op = optimizer.apply_gradients(
            zip(grads, tvars), global_step=tf.train.get_or_create_global_step())
        self.new_lr = tf.placeholder(tf.float32, shape=[], name="new_learning_rate")
        self.lr_update = tf.assign(self.lr, self.new_lr)

    def export_ops(self):
        tf.add_to_collection("Train/cost", self.cost)
        tf.add_to_collection("Train/lr", self.lr)
        tf.add_to_collection("Train/new_lr", self.new_lr)
        tf.add_to_collection("Train/lr_update", self.lr_update)
        tf.add_to_collection("Train/train_op", self.train_op)


def main(_):
    rng = np.random.RandomState(0)
    raw = rng.randint(0, VOCAB, size=400).tolist()
    if not os.path.isdir(FLAGS.save_path):
        os.makedirs(FLAGS.save_path)

    with tf.Graph().as_default():
        initializer = tf.random_uniform_initializer(-0.1, 0.1)
        tf.train.get_or_create_global_step()  # top level: the evaluation graph's Saver looks for it there
        with tf.name_scope("Train"):
            x, y = producer(raw, BATCH, STEPS, name="TrainInput")
            with tf.variable_scope("Model", reuse=None, initializer=initializer):
                model = LM(True, x, y)
        model.export_ops()
        meta_path = os.path.join(FLAGS.save_path, "lm.meta")
        tf.train.export_meta_graph(filename=meta_path)

    with tf.Graph().as_default():
        tf.train.import_meta_graph(meta_path)
        cost = tf.get_collection_ref("Train/cost")[0]
        lr = tf.get_collection_ref("Train/lr")[0]
        new_lr = tf.get_collection_ref("Train/new_lr")[0]
        lr_update = tf.get_collection_ref("Train/lr_update")[0]
        train_op = tf.get_collection_ref("Train/train_op")[0]
        sv = tf.train.Supervisor(logdir=FLAGS.save_path, save_model_secs=0,
                                 save_summaries_secs=0)
        with sv.managed_session() as session:
            for step in range(FLAGS.max_steps):
                session.run(lr_update, feed_dict={new_lr: 1.0 * 0.5 ** step})
                c, _ = session.run([cost, train_op])
                print("step %d: lr %.3f cost %.4f" % (step, session.run(lr), c))
            sv.saver.save(session, os.path.join(FLAGS.save_path, "model.ckpt"),
                          global_step=sv.global_step)

    with tf.Graph().as_default():
        with tf.name_scope("Test"):
            x, y = producer(raw, BATCH, STEPS, name="TestInput")
            with tf.variable_scope("Model", reuse=None):
                test_model = LM(False, x, y)
        global_step = tf.train.get_or_create_global_step()
        scaffold = tf.train.Scaffold(saver=tf.train.Saver())
        with tf.train.MonitoredTrainingSession(checkpoint_dir=FLAGS.save_path,
                                               scaffold=scaffold,
                                               save_checkpoint_secs=None,
                                               save_summaries_steps=None) as session:
            print("restored step %d, test cost %.4f"
                  % (session.run(global_step), session.run(test_model.cost)))


if __name__ == "__main__":
    tf.app.run()
