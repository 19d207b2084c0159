"""The golden file format: deterministic, atomic, refusing pickles and odd dtypes."""

import io
import os
import pickle
import time
import zipfile

import numpy as np
import pytest

from tf1_lstm import golden

META = {"schema_version": golden.SCHEMA_VERSION, "case": "demo"}


def _arrays():
    return {"outputs": np.arange(6, dtype=np.float32).reshape(2, 3),
            "loss": np.array(1.5, dtype=np.float64),
            "variables/a/kernel:0": np.ones((2, 2), np.float32)}


def test_encoding_is_deterministic_and_order_independent():
    arrays = _arrays()
    reordered = dict(reversed(list(arrays.items())))
    assert golden.encode(arrays, META) == golden.encode(reordered, dict(reversed(META.items())))


def test_round_trip_keeps_names_dtypes_shapes_and_0d_arrays(tmp_path):
    path = tmp_path / "demo.npz"
    golden.save(path, _arrays(), META)
    loaded = golden.load(path)
    assert loaded.meta == META
    assert set(loaded.arrays) == set(_arrays())
    for name, value in _arrays().items():
        assert loaded.arrays[name].dtype == value.dtype
        np.testing.assert_array_equal(loaded.arrays[name], value)
    assert loaded.arrays["loss"].shape == ()


def test_files_are_plain_npz_readable_without_pickle(tmp_path):
    path = tmp_path / "demo.npz"
    golden.save(path, _arrays(), META)
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted([*_arrays(), golden.META_KEY])


def test_encode_refuses_object_arrays():
    with pytest.raises(golden.GoldenError, match="array 'bad' has dtype object"):
        golden.encode({"bad": np.array([None, 1], dtype=object)}, META)


def _write_npz_with(path, **arrays):
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(pickle.dumps({"outputs": [1.0]})), "holds a Python pickle"),
    (lambda p: _write_npz_with(p, outputs=np.array([{"a": 1}], dtype=object)),
     "holds pickled or object data"),
    (lambda p: _write_npz_with(p, outputs=np.zeros(2, dtype=[("a", "f4")])),
     "has dtype .* goldens hold only kinds"),
    (lambda p: _write_npz_with(p, outputs=np.zeros(2)), "no metadata record '__meta__'"),
    (lambda p: _write_npz_with(p, __meta__=np.array("{not json")), "metadata record is not valid JSON"),
    (lambda p: _write_npz_with(p, __meta__=np.array('{"schema_version": 99}')),
     "schema version 99, this tf1_lstm reads version 1"),
    (lambda p: np.save(open(p, "wb"), np.zeros(3)), "a single .npy array"),
    (lambda p: p.write_bytes(b""), "not a readable .npz file"),
])
def test_bad_files_are_refused_with_a_message_naming_them(tmp_path, make, message):
    path = tmp_path / "bad.npz"
    make(path)
    with pytest.raises(golden.GoldenError, match=message) as info:
        golden.load(path)
    assert str(path) in str(info.value)


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "demo.npz"
    data = golden.save(path, _arrays(), META)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(golden.GoldenError, match="not a readable .npz file"):
        golden.load(path)


def test_missing_file_says_how_to_create_it(tmp_path):
    with pytest.raises(golden.GoldenError, match="golden file is missing; run me"):
        golden.load(tmp_path / "nope.npz", regen_hint="run me")


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "demo.npz"
    old = golden.save(path, _arrays(), META)

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        golden.save(path, {"outputs": np.zeros(1, np.float32)}, META)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.npz"]


def _zip_with(path, members):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_declared_sizes_are_checked_before_anything_is_unpacked(tmp_path, monkeypatch):
    """A small file declaring a huge member is refused from the zip directory alone."""
    npy = io.BytesIO()
    np.save(npy, np.zeros(1 << 20, np.uint8))               # 1 MiB of zeros, ~1 KiB deflated
    path = tmp_path / "bomb.npz"
    meta = io.BytesIO()
    np.save(meta, np.array("{}"))
    _zip_with(path, {"outputs.npy": npy.getvalue(), "__meta__.npy": meta.getvalue()})
    monkeypatch.setattr(golden, "MAX_MEMBER_BYTES", 1 << 16)
    start = time.perf_counter()
    with pytest.raises(golden.GoldenError, match=r"member 'outputs.npy' declares 1048704 bytes, "
                                                 r"more than the 65536 a reader unpacks"):
        golden.load(path)
    assert path.stat().st_size < 8192 and time.perf_counter() - start < 1.0
    monkeypatch.setattr(golden, "MAX_MEMBER_BYTES", 1 << 30)
    monkeypatch.setattr(golden, "MAX_TOTAL_BYTES", 1 << 19)
    with pytest.raises(golden.GoldenError, match=r"its members declare \d+ bytes, more than"):
        golden.load(path)


def test_metadata_is_capped(tmp_path, monkeypatch):
    path = tmp_path / "big_meta.npz"
    golden.save(path, _arrays(), {**META, "note": "x" * 5000})
    monkeypatch.setattr(golden, "MAX_META_BYTES", 4096)
    with pytest.raises(golden.GoldenError, match=r"member '__meta__.npy' declares \d+ bytes"):
        golden.load(path)


def test_a_member_that_is_not_npy_is_named_not_a_traceback(tmp_path):
    path = tmp_path / "odd.npz"
    _zip_with(path, {"outputs.txt": b"hello"})
    with pytest.raises(golden.GoldenError, match=r"member 'outputs.txt' is not an .npy array"):
        golden.load(path)


def test_a_file_that_is_not_a_zip_is_refused_without_echoing_its_bytes(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_bytes(b"PX s3cr3t-token\n")
    link = tmp_path / "case.npz"
    link.symlink_to(secret)
    with pytest.raises(golden.GoldenError) as info:
        golden.load(link)
    assert "not a zip archive" in str(info.value) and "s3cr3t" not in str(info.value)


def test_a_stale_temporary_is_removed_by_the_next_write_and_a_fresh_one_is_kept(tmp_path):
    path = tmp_path / "demo.npz"
    stale, fresh = tmp_path / ".demo.npz.abc123.tmp", tmp_path / ".demo.npz.def456.tmp"
    other = tmp_path / ".other.npz.abc123.tmp"
    for tmp in (stale, fresh, other):
        tmp.write_bytes(b"half a golden")
    long_ago = time.time() - golden.STALE_TMP_SECONDS - 5
    os.utime(stale, (long_ago, long_ago))
    os.utime(other, (long_ago, long_ago))
    golden.save(path, _arrays(), META)
    assert not stale.exists()          # an interrupted write of this golden, long ago
    assert fresh.exists()              # perhaps a writer still at work
    assert other.exists()              # another golden's


def test_a_header_declaring_more_than_the_member_holds_is_refused_before_allocating(tmp_path):
    header = np.lib.format.header_data_from_array_1_0(np.zeros(4, np.float32))
    header["shape"] = (10 ** 6, 10 ** 6)                       # 4 TB of float32 declared
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, header)
    path = tmp_path / "lies.npz"
    _zip_with(path, {"outputs.npy": out.getvalue() + np.zeros(4, np.float32).tobytes()})
    with pytest.raises(golden.GoldenError, match=r"member 'outputs.npy' declares shape "
                                                 r"\(1000000, 1000000\) of float32 "
                                                 r"\(4000000000000 bytes\) but holds 16"):
        golden.load(path)


def test_deeply_nested_metadata_is_one_message_not_a_recursion_error(tmp_path):
    path = tmp_path / "deep.npz"
    _write_npz_with(path, __meta__=np.array("[" * 100000 + "]" * 100000))
    with pytest.raises(golden.GoldenError, match="metadata record is nested too deeply"):
        golden.load(path)
