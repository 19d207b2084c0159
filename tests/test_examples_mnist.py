"""tf1_lstm.examples.tutorials.mnist.input_data: TF 1.x's MNIST reader, on tiny IDX files."""

import gzip
import struct
import subprocess
import sys

import numpy as np
import pytest

from tf1_lstm.examples.tutorials.mnist import input_data

N_TRAIN, N_TEST, SIDE = 12, 3, 28


def _image_bytes(n: int, first_id: int) -> np.ndarray:
    """(n, 28, 28) uint8; pixel 0 of image k holds its id, the rest a pattern that reaches 255."""
    pixels = (np.arange(SIDE * SIDE)[None, :] * 7 + np.arange(n)[:, None] * 13) % 256
    pixels[:, 0] = first_id + np.arange(n)
    pixels[:, 1] = 255
    return pixels.reshape(n, SIDE, SIDE).astype(np.uint8)


def _idx(magic: int, array: np.ndarray) -> bytes:
    return struct.pack(f">{1 + array.ndim}I", magic, *array.shape) + array.tobytes()


def _write(directory, gzipped=True, files=None, magic=None):
    """The four MNIST files in ``directory``; ``magic`` overrides one file's magic number."""
    train_images, test_images = _image_bytes(N_TRAIN, 0), _image_bytes(N_TEST, 100)
    contents = {
        "train-images-idx3-ubyte.gz": _idx(2051, train_images),
        "train-labels-idx1-ubyte.gz": _idx(2049, (np.arange(N_TRAIN) % 10).astype(np.uint8)),
        "t10k-images-idx3-ubyte.gz": _idx(2051, test_images),
        "t10k-labels-idx1-ubyte.gz": _idx(2049, np.array([7, 2, 1], np.uint8)),
    }
    if magic is not None:
        bad_name, bad_magic = magic
        contents[bad_name] = struct.pack(">I", bad_magic) + contents[bad_name][4:]
    for name, data in contents.items():
        if files is not None and name not in files:
            continue
        if gzipped:
            (directory / name).write_bytes(gzip.compress(data))
        else:
            (directory / name[:-3]).write_bytes(data)
    return train_images, test_images


def _ids(images: np.ndarray) -> np.ndarray:
    """The id stored in pixel 0 of each flattened image (uint8 or scaled float32)."""
    first = images.reshape(len(images), -1)[:, 0]
    return np.rint(first.astype(np.float64) * (255 if images.dtype == np.float32 else 1)).astype(int)


@pytest.fixture
def mnist_dir(tmp_path):
    _write(tmp_path)
    return tmp_path


@pytest.fixture
def no_graph_seed(monkeypatch):
    """No graph-level seed, whatever TensorFlow state other tests left behind."""
    monkeypatch.setattr(input_data, "_graph_level_seed", lambda: None)


class TestReading:
    """Files, shapes, dtypes and the validation split."""

    @pytest.mark.parametrize("gzipped", [True, False], ids=["gzipped", "plain"])
    def test_shapes_scaling_and_split(self, tmp_path, gzipped, no_graph_seed):
        train_raw, test_raw = _write(tmp_path, gzipped=gzipped)
        data = input_data.read_data_sets(str(tmp_path), validation_size=4)
        assert isinstance(data, input_data.Datasets)
        counts = (data.train.num_examples, data.validation.num_examples, data.test.num_examples)
        assert counts == (8, 4, 3)
        assert data.train.images.shape == (8, 784) and data.train.images.dtype == np.float32
        assert data.test.images.shape == (3, 784)
        expected = train_raw.reshape(N_TRAIN, 784).astype(np.float32) / np.float32(255)
        np.testing.assert_allclose(data.validation.images, expected[:4], rtol=0, atol=1e-7)
        np.testing.assert_allclose(data.train.images, expected[4:], rtol=0, atol=1e-7)
        assert 0.0 <= data.train.images.min() and data.train.images.max() == pytest.approx(1.0)
        np.testing.assert_array_equal(data.train.labels, np.arange(4, 12) % 10)
        assert data.train.labels.dtype == np.uint8
        np.testing.assert_array_equal(data.test.labels, [7, 2, 1])
        np.testing.assert_array_equal(_ids(data.test.images), [100, 101, 102])
        assert data.train.epochs_completed == 0

    def test_gzipped_and_plain_read_the_same(self, tmp_path, no_graph_seed):
        (tmp_path / "gz").mkdir()
        (tmp_path / "plain").mkdir()
        _write(tmp_path / "gz", gzipped=True)
        _write(tmp_path / "plain", gzipped=False)
        a = input_data.read_data_sets(str(tmp_path / "gz"), validation_size=0)
        b = input_data.read_data_sets(str(tmp_path / "plain"), validation_size=0)
        for split in ("train", "test"):
            np.testing.assert_array_equal(getattr(a, split).images, getattr(b, split).images)
            np.testing.assert_array_equal(getattr(a, split).labels, getattr(b, split).labels)

    def test_one_hot(self, mnist_dir, no_graph_seed):
        data = input_data.read_data_sets(str(mnist_dir), one_hot=True, validation_size=2)
        labels = data.train.labels
        assert labels.shape == (10, 10) and labels.dtype == np.float64  # as TF 1.x
        np.testing.assert_array_equal(labels.sum(axis=1), 1)
        np.testing.assert_array_equal(labels.argmax(axis=1), np.arange(2, 12) % 10)
        np.testing.assert_array_equal(data.test.labels.argmax(axis=1), [7, 2, 1])

    @pytest.mark.parametrize("dtype", [np.uint8, "uint8", np.dtype("uint8")])
    def test_uint8_keeps_pixels(self, mnist_dir, dtype, no_graph_seed):
        train_raw = _image_bytes(N_TRAIN, 0)
        data = input_data.read_data_sets(str(mnist_dir), dtype=dtype, validation_size=0)
        assert data.train.images.dtype == np.uint8
        np.testing.assert_array_equal(data.train.images, train_raw.reshape(N_TRAIN, 784))

    def test_tf_dtype_accepted_by_name(self, mnist_dir, no_graph_seed):
        class FakeTFDtype:  # what tf.uint8 / tf.float32 offer: as_numpy_dtype
            as_numpy_dtype = np.uint8

        data = input_data.read_data_sets(str(mnist_dir), dtype=FakeTFDtype(), validation_size=0)
        assert data.train.images.dtype == np.uint8

    @pytest.mark.parametrize("dtype", [np.int32, np.float64, "float16", None])
    def test_other_dtypes_refused(self, mnist_dir, dtype, no_graph_seed):
        with pytest.raises(TypeError, match="Invalid image dtype .*expected uint8 or float32"):
            input_data.read_data_sets(str(mnist_dir), dtype=dtype, validation_size=2)

    def test_reshape_false_keeps_depth_axis(self, mnist_dir, no_graph_seed):
        data = input_data.read_data_sets(str(mnist_dir), reshape=False, validation_size=0)
        assert data.train.images.shape == (N_TRAIN, 28, 28, 1)
        assert data.train.images.dtype == np.float32

    @pytest.mark.parametrize("size", [-1, N_TRAIN + 1])
    def test_validation_size_out_of_range(self, mnist_dir, size, no_graph_seed):
        with pytest.raises(ValueError, match=rf"^Validation size should be between 0 and {N_TRAIN}\. "
                                             rf"Received: {size}\.$"):
            input_data.read_data_sets(str(mnist_dir), validation_size=size)

    @pytest.mark.parametrize("size", [0, N_TRAIN])
    def test_validation_size_at_the_bounds(self, mnist_dir, size, no_graph_seed):
        data = input_data.read_data_sets(str(mnist_dir), validation_size=size)
        assert (data.validation.num_examples, data.train.num_examples) == (size, N_TRAIN - size)

    def test_prints_extracting_like_tf1(self, mnist_dir, capsys, no_graph_seed):
        input_data.read_data_sets(str(mnist_dir), validation_size=2)
        lines = capsys.readouterr().out.splitlines()
        assert [line.split("/")[-1] for line in lines] == [
            "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        assert all(line.startswith(f"Extracting {mnist_dir}") for line in lines)


class TestErrors:
    """Absent files raise one line naming the directory and the files; bad files name the file."""

    def test_missing_directory_contents(self, tmp_path):
        with pytest.raises(FileNotFoundError) as info:
            input_data.read_data_sets(str(tmp_path / "MNIST_data"))
        assert isinstance(info.value, input_data.MNISTFilesNotFoundError)
        message = str(info.value)
        assert "\n" not in message
        assert str(tmp_path / "MNIST_data") in message
        for name in input_data.FILES:
            assert name in message
        assert "never downloads" in message and ": no MNIST files;" in message
        assert not (tmp_path / "MNIST_data").exists()  # TF 1.x created it to download into

    def test_names_the_missing_file(self, tmp_path):
        _write(tmp_path, files=input_data.FILES[:3])
        with pytest.raises(input_data.MNISTFilesNotFoundError,
                           match=r": MNIST files missing: t10k-labels-idx1-ubyte\.gz; "):
            input_data.read_data_sets(str(tmp_path))

    @pytest.mark.parametrize("gzipped", [True, False], ids=["gzipped", "plain"])
    def test_bad_magic_number_in_labels(self, tmp_path, gzipped):
        _write(tmp_path, gzipped=gzipped, magic=("train-labels-idx1-ubyte.gz", 2051))
        name = "train-labels-idx1-ubyte" + (".gz" if gzipped else "")
        with pytest.raises(ValueError, match=rf"Invalid magic number 2051 in MNIST label file: "
                                             rf".*{name} \(expected 2049\)"):
            input_data.read_data_sets(str(tmp_path))

    def test_bad_magic_number_in_images(self, tmp_path):
        _write(tmp_path, magic=("t10k-images-idx3-ubyte.gz", 2049))
        with pytest.raises(ValueError, match=r"Invalid magic number 2049 in MNIST image file: "
                                             r".*t10k-images-idx3-ubyte\.gz"):
            input_data.read_data_sets(str(tmp_path))

    def test_truncated_images(self, tmp_path):
        _write(tmp_path)
        path = tmp_path / "train-images-idx3-ubyte.gz"
        path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-10]))
        with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: header announces images "
                                             r"of shape \(12, 28, 28\)"):
            input_data.read_data_sets(str(tmp_path))


def _batch_ids(dataset, batch_size, count, **kwargs):
    return [list(_ids(dataset.next_batch(batch_size, **kwargs)[0])) for _ in range(count)]


class TestNextBatch:
    """TF 1.x's batching: the same numpy.random calls, so seeded runs draw the same batches."""

    def test_seeded_order_and_wrap_around(self, mnist_dir, no_graph_seed):
        data = input_data.read_data_sets(str(mnist_dir), validation_size=5, seed=42)
        train = data.train  # ids 5..11
        # TF 1.x: each DataSet reseeded numpy with 42; then one shuffle of arange(7)
        # at the first batch, another when the third batch crosses the epoch end.
        rng = np.random.RandomState(42)
        p0 = np.arange(7)
        rng.shuffle(p0)
        p1 = np.arange(7)
        rng.shuffle(p1)
        epoch0 = 5 + p0
        epoch1 = epoch0[p1]
        expected = [epoch0[0:3], epoch0[3:6], np.r_[epoch0[6:7], epoch1[0:2]], epoch1[2:5]]
        obtained, epochs = [], []
        for _ in expected:
            images, labels = train.next_batch(3)
            obtained.append(list(_ids(images)))
            epochs.append(train.epochs_completed)
            np.testing.assert_array_equal(labels, _ids(images) % 10)  # images and labels stay paired
        assert obtained == [list(e) for e in expected]
        assert epochs == [0, 0, 1, 1]

    def test_np_random_seed_after_reading_reproduces(self, mnist_dir, no_graph_seed):
        data = input_data.read_data_sets(str(mnist_dir), validation_size=0)
        np.random.seed(7)
        first = _batch_ids(data.train, 5, 4)
        again = input_data.read_data_sets(str(mnist_dir), validation_size=0)
        np.random.seed(7)
        assert _batch_ids(again.train, 5, 4) == first
        p0 = np.arange(N_TRAIN)
        np.random.RandomState(7).shuffle(p0)
        assert first[0] == list(p0[:5])
        assert first[2][:2] == list(p0[10:12])

    def test_no_shuffle_is_sequential_and_draws_nothing(self, mnist_dir, no_graph_seed):
        train = input_data.read_data_sets(str(mnist_dir), validation_size=0).train
        np.random.seed(3)
        state = np.random.get_state()[1].copy()
        assert _batch_ids(train, 5, 3, shuffle=False) == [
            [0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 0, 1, 2]]
        assert train.epochs_completed == 1
        np.testing.assert_array_equal(np.random.get_state()[1], state)

    def test_exact_epoch_end_does_not_wrap_early(self, mnist_dir, no_graph_seed):
        train = input_data.read_data_sets(str(mnist_dir), validation_size=0).train
        assert _batch_ids(train, 6, 2, shuffle=False) == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]
        assert train.epochs_completed == 0  # TF 1.x counts the epoch at the next batch
        train.next_batch(6, shuffle=False)
        assert train.epochs_completed == 1

    def test_fake_data(self):
        data = input_data.read_data_sets("unused", fake_data=True, one_hot=True)
        assert data.train.num_examples == 10000
        images, labels = data.train.next_batch(2, fake_data=True)
        assert np.shape(images) == (2, 784) and labels == [[1] + [0] * 9] * 2
        dense_fake = input_data.read_data_sets("unused", fake_data=True).test
        _, dense = dense_fake.next_batch(3, fake_data=True)
        assert dense == [0, 0, 0]


class TestSeeding:
    """Which seed each DataSet gives numpy.random.seed, as TF 1.x's get_seed decided."""

    @pytest.fixture
    def seeds(self, monkeypatch):
        calls = []
        real = np.random.seed
        monkeypatch.setattr(np.random, "seed", lambda s=None: (calls.append(s), real(s))[1])
        return calls

    @pytest.mark.parametrize("seed, expected", [(None, None), (5, 5), (2**31 - 1 + 3, 3)])
    def test_without_graph_seed(self, mnist_dir, seeds, seed, expected, no_graph_seed):
        input_data.read_data_sets(str(mnist_dir), validation_size=2, seed=seed)
        assert seeds == [expected] * 3  # train, validation, test

    @pytest.mark.parametrize("graph_seed, seed, expected", [
        (11, None, 11), (11, 5, 5), (0, 0, 2**31 - 1), (0, None, 0)])
    def test_with_graph_seed(self, monkeypatch, seeds, graph_seed, seed, expected):
        monkeypatch.setattr(input_data, "_graph_level_seed", lambda: graph_seed)
        input_data.DataSet(np.zeros((2, 28, 28, 1), np.uint8), np.zeros(2, np.uint8), seed=seed)
        assert seeds == [expected]

    def test_graph_seed_read_from_tensorflow(self, tf):
        graph = tf.Graph()
        with graph.as_default():
            tf.compat.v1.set_random_seed(1234)
            assert input_data._graph_level_seed() == 1234
            input_data.DataSet(np.zeros((2, 28, 28, 1), np.uint8), np.zeros(2, np.uint8))
            # TF 1.x's get_seed did not advance the graph's op-seed counter; TF 2's does.
            assert tf.compat.v1.random.get_seed(None) == (1234, 0)
        with tf.Graph().as_default():
            assert input_data._graph_level_seed() is None

    def test_eager_global_seed_read_from_tensorflow(self, tf):
        context = sys.modules["tensorflow.python.eager.context"]
        previous = context.global_seed()
        assert tf.executing_eagerly()
        tf.random.set_seed(77)
        try:
            assert input_data._graph_level_seed() == 77
        finally:
            context.set_global_seed(previous)

    @pytest.mark.subprocess
    def test_no_tensorflow_import(self):
        code = ("import sys; import tf1_lstm.examples.tutorials.mnist.input_data as m; "
                "m.DataSet(m.np.zeros((1, 2, 2, 1), m.np.uint8), m.np.zeros(1)); "
                "print('tensorflow' in sys.modules)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "False"


class TestTutorialModel:
    """tf1_lstm.examples.tutorials.mnist.mnist builds TF 1.x's tutorial graph."""

    def test_inference_variables(self, tf, graph_session):
        from tf1_lstm.examples.tutorials.mnist import mnist

        _, sess = graph_session
        images = tf.compat.v1.placeholder(tf.float32, [None, mnist.IMAGE_PIXELS])
        logits = mnist.inference(images, 5, 4)
        assert logits.shape.as_list() == [None, mnist.NUM_CLASSES]
        assert [(v.name, v.shape.as_list()) for v in tf.compat.v1.trainable_variables()] == [
            ("hidden1/weights:0", [784, 5]), ("hidden1/biases:0", [5]),
            ("hidden2/weights:0", [5, 4]), ("hidden2/biases:0", [4]),
            ("softmax_linear/weights:0", [4, 10]), ("softmax_linear/biases:0", [10])]
        sess.run(tf.compat.v1.global_variables_initializer())
        w1 = sess.run(tf.compat.v1.trainable_variables()[0])
        assert np.abs(w1).max() <= 2 / np.sqrt(784)  # truncated normal, stddev 1/sqrt(fan_in)

    def test_loss_training_evaluation(self, tf, graph_session):
        from tf1_lstm.examples.tutorials.mnist import mnist

        graph, sess = graph_session
        logits = tf.compat.v1.Variable(np.eye(3, 10, dtype=np.float32) * 5.0)
        labels = tf.constant([0, 1, 7], tf.int32)
        loss = mnist.loss(logits, labels)
        train_op = mnist.training(loss, 0.5)
        correct = mnist.evaluation(logits, labels)
        sess.run(tf.compat.v1.global_variables_initializer())
        assert sess.run(correct) == 2  # rows 0 and 1 peak at their labels, row 2 does not
        log_z = np.log(np.exp(5) + 9)  # each row: one logit 5, nine logits 0
        expected = np.mean([log_z - 5, log_z - 5, log_z])
        assert sess.run(loss) == pytest.approx(expected, rel=1e-5)
        sess.run(train_op)
        step, = [v for v in tf.compat.v1.global_variables() if v.name == "global_step:0"]
        assert step not in tf.compat.v1.trainable_variables()
        assert sess.run(step) == 1 and sess.run(loss) < expected
        summaries = graph.get_collection(tf.compat.v1.GraphKeys.SUMMARIES)
        assert [t.op.type for t in summaries] == ["ScalarSummary"]
