"""The codemod table: which findings ``check --fix`` rewrites into portable PyTorch, and how.

The rules say *what* to write instead (their ``portable`` facts, human-readable); this table says
*how* to write it as an edit: the new callee, arguments to insert, how to guard a call that raises on
a machine without an accelerator, and the torch version the edit needs. Each entry names the rule and
the portable fact it implements, and ``tests/test_fix_table.py`` ties the two together, so an entry
cannot outlive or contradict the fact it stands on. A finding with no entry here keeps no fix.

Templates are Python expressions: ``{torch}`` is the file's name for the torch module, ``{device}``
the one device variable a fix introduces (chosen once per file, needs torch >= 2.6).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Needed for the device variable: ``torch.accelerator`` appeared in 2.6.
DEVICE_MIN_TORCH = "2.6"
#: ``{device} = ...``: the running accelerator, or the CPU on a machine without one.
DEVICE_DEFINITION = ("{torch}.accelerator.current_accelerator() if {torch}.accelerator.is_available() "
                     "else {torch}.device(\"cpu\")")
#: How ``plan`` spells the symbol of any ``f"cuda:{...}"`` for the table.
FSTRING_DEVICE = "cuda:{...}"
#: The test that makes a raising call safe on a machine without an accelerator.
ACCELERATOR_GUARD = "{torch}.accelerator.is_available()"


@dataclass(frozen=True, slots=True)
class Entry:
    """One rewrite.

    ``kind`` says what the finding's span is and what replaces it:
    ``call`` (a call of the symbol: the callee becomes ``template``), ``reference`` (any use of the
    symbol: the expression becomes ``template``), ``method`` (``x.cuda(...)``: the call becomes
    ``x.to(template, ...)``), ``attribute`` (``x.is_cuda``: ``template`` with ``{recv}``), ``string``
    (a literal whose value is in ``values`` becomes ``template``), ``fstring`` (an f-string whose text
    starts with one of ``values``: that prefix's device type becomes ``{template}``).
    """

    rule_id: str
    symbols: tuple[str, ...]
    kind: str
    template: str
    #: The rule's ``portable`` replacement this entry writes (tests hold them together).
    portable: str
    min_torch: str | None = None
    safe: bool = True
    #: ``call``: "none" (only argument-less calls), "keep" (arguments kept), "positional" (kept, but no
    #: keywords: the new function's parameters are positional-only).
    args: str = "keep"
    #: ``call``/``method``: arguments put first (``x`` positional, ``k=x`` keyword).
    insert: tuple[str, ...] = ()
    #: ``call``: positional arguments that become these keywords (signatures that moved them).
    positional_as: tuple[str, ...] = ()
    #: ``call``/``method``: the only keywords the rewrite keeps its meaning with.
    keywords: tuple[str, ...] | None = None
    #: A call that raises without an accelerator: "statement" (wrapped in ``if``) or the value an
    #: expression takes instead (``0``, ``{}``).
    guard: str | None = None
    #: ``string``: the literal values rewritten.
    values: tuple[str, ...] = ()

    @property
    def needs_device(self) -> bool:
        return "{device}" in self.template or any("{device}" in arg for arg in self.insert)

    def describe(self) -> str:
        """What the fix writes, for the text/JSON mark (``torch.accelerator.synchronize()``)."""
        text = self.template.format(torch="torch", device="device", recv="x")
        if self.kind == "call":
            inserted = [arg.format(torch="torch", device="device") for arg in self.insert]
            text += "(" + ", ".join(inserted + ([] if self.args == "none" else ["..."])) + ")"
        elif self.kind == "method":
            text = f".to({text}, ...)"
        elif self.kind == "rename-method":
            text = f".{text}(...)"
        elif self.kind == "rename-attribute":
            text = f".{text}"
        if self.guard == "statement":
            return text + " (skipped without an accelerator)"
        return text + (f" ({self.guard} without an accelerator)" if self.guard else "")


def _memory(name: str, new: str, default: str | None, *, safe: bool = True) -> list[Entry]:
    """A ``torch.cuda`` memory function (both spellings) and its ``torch.accelerator.memory`` twin."""
    symbols = (f"torch.cuda.{name}", f"torch.cuda.memory.{name}")
    return [Entry("LL103", symbols, "call", "{torch}.accelerator.memory." + new,
                  f"torch.accelerator.memory.{new}()", "2.9", safe and default is None, "positional",
                  guard=default or "statement")]


_SEEDING = "torch.manual_seed(seed)"
_ACCEL = "{torch}.accelerator."

ENTRIES: tuple[Entry, ...] = (
    # -- LL101 device API -------------------------------------------------------------------------------
    Entry("LL101", ("torch.cuda.synchronize",), "call", _ACCEL + "synchronize", "torch.accelerator.synchronize()",
          "2.6", args="positional", guard="statement"),
    Entry("LL101", ("torch.cuda.synchronize",), "call", "{torch}.get_device_module().synchronize",
          "torch.get_device_module(device).synchronize", "2.4", args="none"),
    Entry("LL101", ("torch.cuda.is_available",), "call", _ACCEL + "is_available", "torch.accelerator.is_available()",
          "2.6", args="none"),
    Entry("LL101", ("torch.cuda.is_available",), "call", "{torch}.get_device_module().is_available",
          "torch.get_device_module(device).is_available", "2.5", safe=False, args="none"),
    Entry("LL101", ("torch.cuda.device_count",), "call", _ACCEL + "device_count", "torch.accelerator.device_count()",
          "2.6", args="none"),
    Entry("LL101", ("torch.cuda.device_count",), "call", "{torch}.get_device_module().device_count",
          "torch.get_device_module(device).device_count", "2.4", safe=False, args="none"),
    Entry("LL101", ("torch.cuda.current_device",), "call", _ACCEL + "current_device_index",
          "torch.accelerator.current_device_index()", "2.6", safe=False, args="none", guard="0"),
    Entry("LL101", ("torch.cuda.set_device",), "call", _ACCEL + "set_device_index",
          "torch.accelerator.set_device_index(index)", "2.6", args="positional", guard="statement"),
    # -- LL102 streams and events ------------------------------------------------------------------------
    Entry("LL102", ("torch.cuda.Event", "torch.cuda.streams.Event"), "call", "{torch}.Event", "torch.Event(device)",
          "2.4", keywords=("enable_timing", "blocking", "interprocess")),
    # -- LL103 memory: statistics read 0 and caches are not emptied when there is no accelerator ---------
    *_memory("empty_cache", "empty_cache", None),
    *_memory("reset_peak_memory_stats", "reset_peak_memory_stats", None),
    *_memory("reset_accumulated_memory_stats", "reset_accumulated_memory_stats", None),
    *_memory("memory_allocated", "memory_allocated", "0"),
    *_memory("max_memory_allocated", "max_memory_allocated", "0"),
    *_memory("memory_reserved", "memory_reserved", "0"),
    *_memory("max_memory_reserved", "max_memory_reserved", "0"),
    *_memory("memory_cached", "memory_reserved", "0"),
    *_memory("max_memory_cached", "max_memory_reserved", "0"),
    *_memory("memory_stats", "memory_stats", "{}"),
    Entry("LL103", ("torch.cuda.OutOfMemoryError",), "reference", "{torch}.OutOfMemoryError",
          "torch.OutOfMemoryError", "2.4"),
    # -- LL104 random numbers: torch.manual_seed seeds every device, the CPU generator too ---------------
    Entry("LL104", ("torch.cuda.manual_seed", "torch.cuda.manual_seed_all", "torch.cuda.random.manual_seed",
                    "torch.cuda.random.manual_seed_all"), "call", "{torch}.manual_seed", _SEEDING, safe=False),
    Entry("LL104", ("torch.cuda.seed", "torch.cuda.seed_all", "torch.cuda.random.seed", "torch.cuda.random.seed_all"),
          "call", "{torch}.seed", "torch.seed()", safe=False, args="none"),
    Entry("LL104", ("torch.cuda.initial_seed", "torch.cuda.random.initial_seed"), "call", "{torch}.initial_seed",
          "torch.initial_seed()", safe=False, args="none"),
    # -- LL105 automatic mixed precision -----------------------------------------------------------------
    Entry("LL105", ("torch.cuda.amp.GradScaler", "torch.cuda.amp.grad_scaler.GradScaler"), "call",
          "{torch}.amp.GradScaler", "torch.amp.GradScaler(device)", "2.6", insert=("{device}.type",)),
    Entry("LL105", ("torch.cuda.amp.autocast", "torch.cuda.amp.autocast_mode.autocast"), "call", "{torch}.autocast",
          "torch.autocast(device_type=device_type)", "2.6", insert=("device_type={device}.type",),
          positional_as=("enabled", "dtype", "cache_enabled")),
    # -- LL120/LL121 tensor and module methods -----------------------------------------------------------
    Entry("LL120", (".cuda",), "method", "{device}", ".to(device)", "2.6", safe=False,
          keywords=("non_blocking", "memory_format")),
    Entry("LL121", (".is_cuda",), "attribute", "{recv}.device.type == {device}.type",
          "x.device.type == torch.accelerator.current_accelerator().type", "2.6", safe=False),
    # -- LL200/LL201 device strings: one chosen device ---------------------------------------------------
    Entry("LL200", ("cuda",), "string", "{device}.type", "torch.accelerator.current_accelerator()", "2.6",
          values=("cuda",)),
    Entry("LL201", ("cuda",), "string", "{device}.type", "torch.accelerator.current_accelerator()", "2.6",
          safe=False, values=("cuda",)),
    # f"cuda:{rank}" (its symbol is the f-string's text): the device type from the one device, the index kept
    Entry("LL200", (FSTRING_DEVICE,), "fstring", "{device}.type", "torch.accelerator.current_accelerator()", "2.6",
          values=("cuda:",)),
    # -- LL300/LL301 distributed -------------------------------------------------------------------------
    Entry("LL300", ("nccl",), "string", "{torch}.distributed.get_default_backend_for_device({device})",
          "torch.distributed.init_process_group(backend=torch.distributed.get_default_backend_for_device(device))",
          "2.6", values=("nccl",)),
    Entry("LL301", ("torch.distributed.is_nccl_available", "torch.distributed.distributed_c10d.is_nccl_available"),
          "call", "{torch}.distributed.is_backend_available",
          "torch.distributed.is_backend_available(torch.distributed.get_default_backend_for_device(device))", "2.6",
          args="none", insert=("{torch}.distributed.get_default_backend_for_device({device})",)),
)


def _index() -> dict[tuple[str, str], tuple[Entry, ...]]:
    table: dict[tuple[str, str], list[Entry]] = {}
    for entry in ENTRIES:
        for symbol in entry.symbols:
            table.setdefault((entry.rule_id, symbol), []).append(entry)
    return {key: tuple(value) for key, value in table.items()}


#: (rule id, symbol) -> entries, best first: the first one the declared torch version allows wins.
BY_SYMBOL = _index()
