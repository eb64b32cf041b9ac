"""Receivers of tensor-method names that are a project's own objects (analyzers/python_receivers.py):
LL904 reports torch's operator only where the receiver may be a torch tensor.

The calls use distinctive tensor-method names (``int_repr``, ``to_sparse_csr``): a receiver of unknown
type is reported with those, so the tests see what the receiver reading decides. (Names other
libraries share, ``dequantize`` and ``to_dense``, need a proven tensor: tests/test_python_tensors.py.)"""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

_FACTORIES = """\
def _blocks(values, layout):
    return BlockSparseTensor(values, layout)


def _create(values, layout):
    return _blocks(values, layout)


def _outer(values, layout):
    return _create(values, layout)


def _generated(values, layout):
    yield BlockSparseTensor(values, layout)


def test(values, layout):
    a = RECEIVER
    return a.to_sparse_csr()
"""


def _reported(receiver: str, ruleset: RuleSet, header: str = "") -> bool:
    source = header + _FACTORIES.replace("RECEIVER", receiver)
    result = check_bytes("test_sparse.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    return any(f.rule_id == "LL904" for f in result.findings)


def test_a_same_file_factory_of_a_foreign_class_is_followed_two_deep(ruleset: RuleSet) -> None:
    """xformers' ``mask = _create_tensor(...)`` returning ``BlockSparseTensor(...)``, whose
    ``to_dense`` its ``__torch_function__`` answers itself: not torch's sparse operator."""
    assert not _reported("BlockSparseTensor(values, layout)", ruleset)
    assert not _reported("_blocks(values, layout)", ruleset)
    assert not _reported("_create(values, layout)", ruleset)
    assert _reported("_outer(values, layout)", ruleset)  # deeper than followed: still a possible tensor


def test_other_calls_stay_possible_tensors(ruleset: RuleSet) -> None:
    # (on a device: a tensor torch.randn built without one is provably on the CPU, python_cpu_tensors)
    assert _reported("torch.randn(4, device=values.device).to_sparse()", ruleset, "import torch\n")
    assert _reported("_generated(values, layout)", ruleset)  # a generator returns no instance
    assert _reported("_unknown(values, layout)", ruleset)  # no such function in the file
    # a factory name the file also imports is ambiguous: left a possible tensor
    assert _reported("_blocks(values, layout)", ruleset, "from torch_helpers import _blocks\n")


def _extension_reported(source: str, ruleset: RuleSet) -> bool:
    result = check_bytes("test_ext.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    return any(f.rule_id == "LL904" for f in result.findings)


def test_a_loaded_extension_module_is_no_tensor(ruleset: RuleSet) -> None:
    """DeepSpeed's ``quantizer_module = QuantizerBuilder().load()`` then ``quantizer_module.dequantize``:
    the project's own kernel; likewise a module from torch's JIT extension loaders."""
    call = "def f(o):\n    m = {}\n    return m.int_repr(o)\n"
    assert not _extension_reported(call.format("QuantizerBuilder().load()"), ruleset)
    assert not _extension_reported(call.format("ops.InferenceBuilder(True).load(verbose=False)"), ruleset)
    assert not _extension_reported("import torch\n" + call.format("torch.utils.cpp_extension.load('q', ['q.cpp'])"),
                                   ruleset)
    assert not _extension_reported("from torch.utils.cpp_extension import load_inline\n"
                                   + call.format("load_inline('q', '')"), ruleset)
    attribute = ("class K:\n    def __init__(self):\n        self.m = QuantizerBuilder().load()\n"
                 "    def run(self, o):\n        return self.m.int_repr(o)\n")
    assert not _extension_reported(attribute, ruleset)


def test_other_loads_stay_possible_tensors(ruleset: RuleSet) -> None:
    call = "def f(o, p):\n    m = {}\n    return m.int_repr(o)\n"
    assert _extension_reported(call.format("QuantizerBuilder().build()"), ruleset)  # not loaded
    assert _extension_reported(call.format("Quantizer().load()"), ruleset)  # no builder
    assert _extension_reported(call.format("load(p)"), ruleset)  # a load of the file's own
    assert _extension_reported("from mylib import load\n" + call.format("load(p)"), ruleset)
    assert _extension_reported(call.format("QuantizerBuilder().load() if p else o"), ruleset)


def test_the_gradient_of_a_foreign_instance_is_one_too(ruleset: RuleSet) -> None:
    """xformers' ``a_sparse.grad.to_sparse_csr()`` with ``a_sparse`` a ``BlockSparseTensor``: its
    ``__torch_function__`` makes the gradient, of its own class."""
    grad = _FACTORIES.replace("return a.to_sparse_csr()", "return a.grad.to_sparse_csr()")
    for receiver, reported in (("_create(values, layout)", False), ("BlockSparseTensor(values, layout)", False),
                               ("_outer(values, layout)", True), ("values", True)):
        result = check_bytes("test_sparse.py", grad.replace("RECEIVER", receiver).encode(), ruleset)
        assert any(f.rule_id == "LL904" for f in result.findings) is reported, receiver
    attribute = ("class K:\n    def __init__(self, v, l):\n        self.m = BlockSparseTensor(v, l)\n"
                 "    def run(self):\n        return self.m.grad.to_sparse_csr(), self.grad.to_sparse_csr()\n")
    result = check_bytes("test_k.py", attribute.encode(), ruleset)
    assert [f.line for f in result.findings if f.rule_id == "LL904"] == [5]  # only self.grad: unknown


_CLASS_ATTRIBUTE = """\
class Quantizer:
    pass


class Init:
    DEFAULT

    def __init__(self, value):
        self.module = Quantizer()
        OTHER


def gather(param, scales):
    return Init.module.int_repr(param, scales)
"""


def _class_attribute_reported(ruleset: RuleSet, default: str = "pass", other: str = "pass",
                              header: str = "", after: str = "") -> bool:
    source = header + _CLASS_ATTRIBUTE.replace("DEFAULT", default).replace("OTHER", other) + after
    result = check_bytes("zero.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    return any(f.rule_id == "LL904" for f in result.findings)


def test_a_class_attribute_set_to_a_foreign_instance_is_no_tensor(ruleset: RuleSet) -> None:
    """DeepSpeed's ``Init.quantizer_module.int_repr(...)`` with ``self.quantizer_module =
    CUDAQuantizer()`` in ``Init``: the project's quantizer, not torch's operator. Any other binding
    of the attribute in the file leaves it a possible tensor."""
    assert not _class_attribute_reported(ruleset)
    assert not _class_attribute_reported(ruleset, after="Init.module = Quantizer()\n")
    assert _class_attribute_reported(ruleset, other="self.module = value")
    assert _class_attribute_reported(ruleset, default="module = None")  # a class-level default
    assert _class_attribute_reported(ruleset, after="Init.module = make()\n")
    assert _class_attribute_reported(ruleset, after="engine.module = make()\n")  # maybe an Init
    assert _class_attribute_reported(ruleset, other="self.module, self.x = value")
    assert _class_attribute_reported(ruleset, header="import torch\n", other="self.module = torch.Tensor()")
    assert _class_attribute_reported(ruleset, after="def f(x):\n    return Other.module.int_repr(x)\n")
