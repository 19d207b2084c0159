"""tf1_lstm.contrib.training: TF 1.x's HParams and parse_values (cases from TF1's hparam_test.py)."""

import json
import subprocess
import sys

import pytest

from tf1_lstm.contrib.training import HParams, parse_values


@pytest.fixture
def hparams():
    return HParams(aaa=1, b=2.0, c_c="relu6", d=True, e=[5.0, 6.0])


class TestConstruction:
    """Keyword construction, attributes, add/del, containment, str and repr."""

    def test_values_and_attributes(self, hparams):
        assert hparams.values() == {"aaa": 1, "b": 2.0, "c_c": "relu6", "d": True, "e": [5.0, 6.0]}
        assert (hparams.aaa, hparams.b, hparams.c_c, hparams.d, hparams.e) == (1, 2.0, "relu6", True,
                                                                              [5.0, 6.0])
        assert "aaa" in hparams and "zzz" not in hparams

    def test_empty(self):
        hparams = HParams()
        assert hparams.values() == {}
        hparams.parse("")
        assert hparams.values() == {}

    def test_repr_sorted_and_str_parseable(self):
        hparams = HParams(b=[2.0, 3.0], a=1, c="relu6")
        assert repr(hparams) == "HParams([('a', 1), ('b', [2.0, 3.0]), ('c', 'relu6')])"
        assert str(hparams) == "b=[2.0, 3.0],a=1,c=relu6"
        other = HParams(a=4, b=[5.0, 6.0], c="relu10").parse(str(hparams))
        assert other.values() == hparams.values()

    def test_repr_names_subclass(self):
        class MyParams(HParams):
            pass

        assert repr(MyParams(x=1)) == "MyParams([('x', 1)])"

    @pytest.mark.parametrize("name", ["parse", "values", "set_hparam", "_hparam_types"])
    def test_reserved_names(self, name):
        with pytest.raises(ValueError, match=f"^Hyperparameter name is reserved: {name}$"):
            HParams().add_hparam(name, 1)

    def test_add_existing_refused(self, hparams):
        with pytest.raises(ValueError, match="reserved: aaa"):
            hparams.add_hparam("aaa", 2)

    def test_empty_list_refused(self):
        with pytest.raises(ValueError, match="^Multi-valued hyperparameters cannot be empty: x$"):
            HParams(x=[])

    def test_del_then_add_with_new_type(self):
        hparams = HParams(aaa=1, b=2.0)
        with pytest.raises(ValueError):
            hparams.set_hparam("aaa", "will fail")
        hparams.del_hparam("aaa")
        assert "aaa" not in hparams and not hasattr(hparams, "aaa")
        hparams.del_hparam("aaa")  # absent: nothing happens
        hparams.add_hparam("aaa", "will work")
        hparams.set_hparam("aaa", "still works")
        assert hparams.get("aaa") == "still works"

    def test_dotted_names(self):
        hparams = HParams()
        hparams.add_hparam("a.b", 0.0)
        hparams.parse("a.b=1.0")
        assert getattr(hparams, "a.b") == 1.0
        hparams.add_hparam("d..", 0.0)
        hparams.parse("d..=10.0")
        assert getattr(hparams, "d..") == 10.0

    def test_model_structure(self):
        marker = object()
        hparams = HParams(model_structure=marker, x=1)
        assert hparams.get_model_structure() is marker and hparams.values() == {"x": 1}
        hparams.set_model_structure(None)
        assert hparams.get_model_structure() is None

    @pytest.mark.parametrize("hparam_def", [1, "hello", [1, 2, 3]])
    def test_hparam_def_refused(self, hparam_def):
        with pytest.raises(TypeError, match="HParamDef protocol buffer.*HParams\\(name=value"):
            HParams(hparam_def=hparam_def)


class TestParse:
    """parse() strings, with TF 1.x's type rules."""

    def test_scalars(self):
        hparams = HParams(aaa=1, b=2.0, c_c="relu6", d="/a/b=c/d")
        assert hparams.parse("aaa=12") is hparams
        hparams.parse("c_c=relu4, b=-2.0e10")
        assert hparams.values() == {"aaa": 12, "b": -2.0e10, "c_c": "relu4", "d": "/a/b=c/d"}
        hparams.parse("c_c=,b=0,")
        assert (hparams.c_c, hparams.b, type(hparams.b)) == ("", 0.0, float)
        hparams.parse('c_c=2.3",b=+2,')
        assert (hparams.c_c, hparams.b) == ('2.3"', 2.0)
        hparams.parse("b=1.5,d=/a=b/c/d,aaa=10,")
        assert hparams.values() == {"aaa": 10, "b": 1.5, "c_c": '2.3"', "d": "/a=b/c/d"}

    def test_lists(self):
        hparams = HParams(aaa=[1], b=[2.0, 3.0], c_c=["relu6"])
        hparams.parse("aaa=[12,34,56]")
        assert hparams.aaa == [12, 34, 56]
        hparams.parse("c_c=[relu4,relu12],b=[1.0]")
        assert (hparams.c_c, hparams.b) == (["relu4", "relu12"], [1.0])
        hparams.parse("c_c=[],aaa=[-34]")
        assert (hparams.c_c, hparams.aaa) == ([], [-34])
        hparams.parse("c_c=[_12,3'4\"],aaa=[+3]")
        assert (hparams.c_c, hparams.aaa) == (["_12", "3'4\""], [3])
        hparams.parse("aaa=[1 2, 3]")
        assert hparams.aaa == [1, 2, 3]

    @pytest.mark.parametrize("text, expected", [
        ("true", True), ("True", True), ("1", True), ("5", True),
        ("false", False), ("False", False), ("0", False)])
    def test_bools(self, text, expected):
        for initial in (False, True):
            hparams = HParams(use_gpu=initial).parse("use_gpu=" + text)
            assert hparams.use_gpu is expected

    @pytest.mark.parametrize("text, match", [
        ("x=123", "^Unknown hyperparameter type for x$"),
        ("x=[123]", "Unknown hyperparameter type for x"),
        ("aaa=poipoi",
         r"^Could not parse hparam 'aaa' of type 'int' with value 'poipoi' in aaa=poipoi$"),
        ("aaa=1.0", "Could not parse hparam 'aaa' of type 'int'"),
        ("b=12x", "Could not parse hparam 'b' of type 'float'"),
        ("b=relu", "Could not parse hparam 'b'"),
        ("d=yep", "Could not parse hparam 'd' of type 'bool' with value 'yep'"),
        ("e=[1.0,x]", r"Could not parse hparam 'e' of type 'float' with value '1.0,x'"),
        ("aaa=[123]", "^Must not pass a list for single-valued parameter: aaa$"),
        ("e=123", r"^Must pass a list for multi-valued parameter: e\.$"),
        ("aaa=1,aaa=2", "^Multiple assignments to variable 'aaa' in aaa=1,aaa=2$"),
        ("1aaa=2", "^Malformed hyperparameter value: 1aaa=2$"),
        # only ',' separates clauses
        ("aaa=1;b=2", "Could not parse hparam 'aaa' of type 'int' with value '1;b=2'"),
        ("aaa=1,[b]=2", r"^Malformed hyperparameter value: \[b\]=2$"),
        ("aaa", "Malformed hyperparameter value: aaa"),
        ("aaa[1]=2", "Must pass a list|Could not cast"),
    ])
    def test_errors(self, hparams, text, match):
        before = hparams.values()
        with pytest.raises(ValueError, match=match):
            hparams.parse(text)
        assert hparams.values() == before

    def test_parse_values_index_assignment(self):
        assert parse_values("arr[0]=10,arr[5]=20", {"arr": int}) == {"arr": {0: 10, 5: 20}}
        assert parse_values("x=10,arr[1]=20,y=30", {"x": int, "y": int, "arr": int}) == {
            "x": 10, "arr": {1: 20}, "y": 30}
        assert parse_values("a[0]=5,b[1]=true,c[2]=abc,d[3]=3.14",
                            {"a": int, "b": bool, "c": str, "d": float}) == {
            "a": {0: 5}, "b": {1: True}, "c": {2: "abc"}, "d": {3: 3.14}}

    def test_parse_values_ignore_unknown(self):
        parsed = parse_values("arr[0]=10,C=5,arr[1]=20,B[0]=kkk,L[5]=100", {"arr": int, "L": int},
                              ignore_unknown=True)
        assert parsed == {"arr": {0: 10, 1: 20}, "L": {5: 100}}

    @pytest.mark.parametrize("text, match", [
        ("arr[1]=[1,2,3]", r"^Assignment of a list to a list index\.$"),
        ("arr=[100,200],arr[0]=10", "Multiple assignments to variable 'arr' in"),
        ("arr[0]=10,arr[0]=20", r"Multiple assignments to variable 'arr\[0\]' in"),
        ("arr[0]=10,arr=[100]", "Multiple assignments to variable 'arr' in"),
    ])
    def test_parse_values_index_errors(self, text, match):
        with pytest.raises(ValueError, match=match):
            parse_values(text, {"arr": int})

    def test_parse_values_type_key_is_the_list_name(self):
        with pytest.raises(ValueError, match="Unknown hyperparameter type for arr"):
            parse_values("arr[1]=1", {"arr[1]": int})


class TestSetHParam:
    """set_hparam (and everything built on it) converts only where TF 1.x did."""

    def test_set_each_type(self, hparams):
        hparams.set_hparam("aaa", 12)
        hparams.set_hparam("b", 3.0)
        hparams.set_hparam("c_c", "relu4")
        hparams.set_hparam("d", False)
        hparams.set_hparam("e", [1, 2])
        assert hparams.values() == {"aaa": 12, "b": 3.0, "c_c": "relu4", "d": False, "e": [1.0, 2.0]}
        assert [type(v) for v in hparams.e] == [float, float]

    def test_int_to_float_is_cast(self):
        hparams = HParams(float_=1.1)
        hparams.set_hparam("float_", 1)
        assert hparams.float_ == 1.0 and type(hparams.float_) is float

    @pytest.mark.parametrize("name, value", [
        ("str_", 2.2), ("int_", False), ("bool_", 1), ("bool_", "true"), ("bool_", "True"),
        ("bool_", "0"), ("int_", 2.2), ("int_", "2"), ("float_", "1.0"), ("float_", True),
        ("list_int", [2, 3.3])])
    def test_type_mismatch(self, name, value):
        hparams = HParams(int_=1, str_="str", bool_=True, float_=1.1, list_int=[1, 2])
        before = hparams.values()
        with pytest.raises(ValueError, match=f"^Could not cast hparam '{name}' of type '<class "):
            hparams.set_hparam(name, value)
        assert hparams.values() == before

    def test_list_mismatch(self):
        hparams = HParams(a=1, b=[2.0, 3.0])
        with pytest.raises(ValueError, match="^Must not pass a list for single-valued parameter: a$"):
            hparams.set_hparam("a", [1.0])
        with pytest.raises(ValueError, match=r"^Must pass a list for multi-valued parameter: b\.$"):
            hparams.set_hparam("b", 1.0)
        with pytest.raises(ValueError, match="Must pass a list"):  # TF 1.x took lists only, not tuples
            hparams.set_hparam("b", (1.0, 2.0))

    def test_none_typed_takes_anything(self):
        hparams = HParams(none=None)
        hparams.set_hparam("none", "1")
        assert hparams.none == "1"

    def test_exact_type_assigned_without_cast(self):
        class Context:
            def __init__(self, a):
                self.a = a

        hparams = HParams(x=Context(1))
        replacement = Context(2)
        hparams.set_hparam("x", replacement)
        assert hparams.x is replacement

    def test_unknown_name_is_key_error(self, hparams):
        with pytest.raises(KeyError, match="zzz"):
            hparams.set_hparam("zzz", 1)
        with pytest.raises(KeyError):
            hparams.override_from_dict({"zzz": 1})

    def test_override_from_dict(self):
        hparams = HParams(a=1, b=2.0, c="tanh")
        assert hparams.override_from_dict({"a": -2, "c": "identity"}) is hparams
        assert hparams.values() == {"a": -2, "b": 2.0, "c": "identity"}
        hparams = HParams(x=1, d=[0.5])
        hparams.set_from_map({"d": [0.1, 0.2, 0.3]})
        assert hparams.values() == {"x": 1, "d": [0.1, 0.2, 0.3]}


class TestJsonAndGet:
    """to_json / parse_json round trips; get() checks its default against the type."""

    def test_json_round_trip(self):
        hparams = HParams(aaa=1, b=2.0, c_c="relu6", d=True)
        hparams.parse_json('{"aaa": 12, "b": 3.0, "c_c": "relu4", "d": false}')
        assert hparams.values() == {"aaa": 12, "b": 3.0, "c_c": "relu4", "d": False}
        other = HParams(aaa=10, b=20.0, c_c="hello", d=True).parse_json(hparams.to_json())
        assert other.values() == hparams.values()

    def test_json_formatting(self):
        assert HParams(aaa=123).to_json() == '{"aaa": 123}'
        assert HParams(aaa=123).to_json(indent=2) == '{\n  "aaa": 123\n}'
        assert HParams(aaa=123).to_json(separators=(";", "=")) == '{"aaa"=123}'
        assert HParams(b="hello", aaa=123, c_c=False).to_json(sort_keys=True) == (
            '{"aaa": 123, "b": "hello", "c_c": false}')

    def test_json_type_rules(self):
        with pytest.raises(ValueError, match="Could not cast hparam 'aaa'"):
            HParams(aaa=1).parse_json('{"aaa": 1.5}')
        with pytest.raises(json.JSONDecodeError):
            HParams(aaa=1).parse_json("aaa=1")

    def test_get_existing(self, hparams):
        assert hparams.get("aaa") == 1
        assert hparams.get("aaa", 2) == 1
        assert hparams.get("b", 3) == 2.0
        assert hparams.get("c_c", "default") == "relu6"
        assert hparams.get("d", True) is True
        assert hparams.get("e", [1, 2, 3]) == [5.0, 6.0]

    def test_get_missing(self, hparams):
        assert hparams.get("unknown") is None
        assert hparams.get("unknown", 123) == 123
        assert hparams.get("unknown", [1, 2, 3]) == [1, 2, 3]

    @pytest.mark.parametrize("key, default", [
        ("aaa", 2.0), ("b", False), ("c_c", [1, 2, 3]), ("d", "relu"), ("e", 123.0), ("e", ["a", "b"])])
    def test_get_incompatible_default(self, hparams, key, default):
        match = f"^Hparam '{key}' of type '.*' is incompatible with default="
        with pytest.raises(ValueError, match=match):
            hparams.get(key, default)


@pytest.mark.subprocess
def test_no_tensorflow_import():
    code = ("import sys; from tf1_lstm.contrib.training import HParams; "
            "HParams(a=1).parse('a=2'); print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
