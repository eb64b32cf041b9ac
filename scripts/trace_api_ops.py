#!/usr/bin/env python3
"""Record which aten operators each public PyTorch API reaches, by running PyTorch's own test samples.

Why: lockin-lint reports a Python API (``F.ctc_loss``, ``nn.GRU``) when a target lacks an operator it
dispatches to. Typing that map by hand would be guesswork; PyTorch's OpInfo database
(``torch.testing._internal.common_methods_invocations.op_db``) and ModuleInfo database
(``common_modules.module_db``) hold sample inputs for ~700 operators and ~110 ``nn`` modules. Each sample
is run on the CPU build under a ``TorchDispatchMode`` that records every operator reaching it.

What the mode sees: ops *below* autograd. A ``CompositeImplicitAutograd`` op (``ctc_loss``) has already
been decomposed, so its constituents (``_ctc_loss``) are recorded; a ``CompositeExplicitAutograd`` op or a
backend kernel is recorded once, and what it calls inside is not (the mode is off while it runs). That
is the set of operators a backend must provide kernels for (or inherit through a composite kernel).

Run with a venv holding torch (never needed by the tool or its tests):

    /work/torchenv/bin/python scripts/trace_api_ops.py

It writes ``scripts/data/operators/api_ops-torch-<version>.json`` (deterministic: sorted keys). Forward
only: samples are built with ``requires_grad=True`` for floating dtypes (the training path, e.g.
``embedding_bag`` -> ``_embedding_bag`` rather than ``_embedding_bag_forward_only``) but backward is not run.
"""

from __future__ import annotations

import json
import platform
import signal
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
from torch.utils._python_dispatch import TorchDispatchMode

SCRIPTS = Path(__file__).resolve().parent
OUTPUT_DIR = SCRIPTS / "data" / "operators"
#: Samples run per API and variant: enough to reach the usual paths, few enough to finish in minutes.
MAX_SAMPLES = 4
#: Seconds one sample may take before it is abandoned (a few linalg samples are slow).
SAMPLE_TIMEOUT = 10


class Recorder(TorchDispatchMode):
    """Collects ``name.overload`` of every op dispatched while it is active."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: set[str] = set()

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        schema = func._schema
        overload = schema.overload_name
        self.ops.add(schema.name + (f".{overload}" if overload else ""))
        return func(*args, **(kwargs or {}))


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Timeout()


def run_recorded(call: Callable[[], Any]) -> tuple[set[str], str | None]:
    """The ops ``call`` reaches, and the error it raised (None when it ran)."""
    recorder = Recorder()
    signal.alarm(SAMPLE_TIMEOUT)
    try:
        with recorder:
            call()
        error = None
    except Timeout:
        error = "timeout"
    except Exception as exc:  # a sample may be an error-input on purpose or need a missing dependency
        error = type(exc).__name__
    finally:
        signal.alarm(0)
    return recorder.ops, error


def run_all(calls: list[Callable[[], Any]]) -> list[set[str]]:
    """The op set of each call that ran without an error."""
    runs = []
    for call in calls:
        ops, error = run_recorded(call)
        if error is None:
            runs.append(ops)
    return runs


def public_name(dotted: str) -> str | None:
    """``dotted`` if it resolves from ``torch`` (``torch.nn.functional.ctc_loss``), else None."""
    obj: Any = torch
    for part in dotted.split(".")[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return dotted


def pick_dtype(dtypes: Iterable[torch.dtype]) -> torch.dtype | None:
    available = set(dtypes)
    for dtype in (torch.float32, torch.float64, torch.int64, torch.int32, torch.bool, torch.complex64):
        if dtype in available:
            return dtype
    return next(iter(sorted(available, key=str)), None)


def _merge(table: dict[str, dict[str, Any]], api: str, runs: list[set[str]], how: str) -> None:
    """Add ``runs`` (the op set of each sample that ran) to ``api``'s entry: per op, how many samples reached it."""
    entry = table.setdefault(api, {"ops": {}, "how": set(), "samples": 0})
    for ops in runs:
        for op in ops:
            entry["ops"][op] = entry["ops"].get(op, 0) + 1
    entry["how"].add(how)
    entry["samples"] += len(runs)


def trace_opinfo(table: dict[str, dict[str, Any]], failures: dict[str, str]) -> None:
    from torch.testing._internal.common_methods_invocations import op_db

    for info in op_db:
        dtype = pick_dtype(info.supported_dtypes("cpu"))
        if dtype is None:
            continue
        grad = info.supports_autograd and (dtype.is_floating_point or dtype.is_complex)
        label = info.name + (f"[{info.variant_test_name}]" if info.variant_test_name else "")
        try:
            samples = list(info.sample_inputs("cpu", dtype, requires_grad=grad))[:MAX_SAMPLES]
        except Exception as exc:
            failures[label] = f"sample_inputs: {type(exc).__name__}"
            continue
        variants: list[tuple[str, Callable[..., Any] | None]] = [(f"torch.{info.name}", info.op)]
        variants += [(f"torch.{alias.name}", alias.op) for alias in info.aliases]
        if info.method_variant is not None:
            variants.append((f"torch.Tensor.{info.name.rpartition('.')[2]}", info.method_variant))
        for api, fn in variants:
            if fn is None:
                continue
            is_method = api.startswith("torch.Tensor.")
            if not is_method and public_name(api) is None:
                continue  # OpInfo entries for private or test-only callables
            runs = run_all([lambda s=sample, f=fn: f(s.input, *s.args, **s.kwargs) for sample in samples])
            if runs:
                _merge(table, api, runs, f"opinfo:{label}")
            else:
                failures[f"{api} ({label})"] = "no sample ran"


def trace_modules(table: dict[str, dict[str, Any]], failures: dict[str, str]) -> None:
    from torch.testing._internal.common_modules import module_db

    for info in module_db:
        cls = info.module_cls
        api = f"torch.nn.{cls.__name__}"
        if public_name(api) is None:
            continue
        dtype = torch.float32 if torch.float32 in set(info.dtypes) else pick_dtype(info.dtypes)
        try:
            inputs = list(info.module_inputs_func(info, device="cpu", dtype=dtype, requires_grad=True,
                                                  training=True))[:MAX_SAMPLES]
        except Exception as exc:
            failures[api] = f"module_inputs: {type(exc).__name__}"
            continue
        calls = []
        for item in inputs:
            if item.forward_input is None:
                continue
            ctor, fwd = item.constructor_input, item.forward_input

            def call(ctor: Any = ctor, fwd: Any = fwd) -> Any:
                module = cls(*ctor.args, **ctor.kwargs).to(dtype=dtype)
                return module(*fwd.args, **fwd.kwargs)

            calls.append(call)
        runs = run_all(calls)
        if runs:
            _merge(table, api, runs, f"moduleinfo:{cls.__name__}")
        else:
            failures[api] = "no sample ran"


def main() -> int:
    warnings.simplefilter("ignore")
    signal.signal(signal.SIGALRM, _alarm)
    torch.manual_seed(0)
    table: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    trace_opinfo(table, failures)
    trace_modules(table, failures)
    version = torch.__version__
    data = {
        "_meta": {
            "torch_version": version,
            "python": platform.python_version(),
            "generator": "scripts/trace_api_ops.py",
            "method": "OpInfo (common_methods_invocations.op_db) and ModuleInfo (common_modules.module_db) "
                      f"sample inputs run on CPU, forward only, at most {MAX_SAMPLES} samples per API and "
                      "variant, under a TorchDispatchMode recording every op that reaches it (ops below autograd)",
            "how": "opinfo:<name[variant]> or moduleinfo:<class>: the database entries the ops were recorded from",
            "ops": "{op: number of the API's samples that reached it}; samples: how many ran",
        },
        "apis": {
            api: {"ops": dict(sorted(e["ops"].items())), "how": sorted(e["how"]), "samples": e["samples"]}
            for api, e in sorted(table.items())
        },
        "not_traced": dict(sorted(failures.items())),
    }
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUTPUT_DIR / f"api_ops-torch-{version.split('+')[0]}.json"
    out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(SCRIPTS.parent)}: {len(table)} APIs, {len(failures)} not traced")
    return 0


if __name__ == "__main__":
    sys.exit(main())
