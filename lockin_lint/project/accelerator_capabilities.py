"""Branches on a capability of the project's own accelerator abstraction: the project's half.

`analyzers.python_capabilities` records, per match, the capability tests its branch requires
(``not get_accelerator().is_synchronized_device()``: the branch runs where the method returns
False). Whether a target ever takes that branch is written in the project's backend classes, the
modules `backend_modules` already recognises as one interface's backends (DeepSpeed's
``accelerator/cuda_accelerator.py`` beside ``cpu_accelerator.py``, ``mps_accelerator.py``,
``npu_accelerator.py``...). A method that a backend module's classes all answer with one constant
(``return True``, or ``return self.other()`` of such a method in the same class) is that backend's
answer; the CPU accelerator's ``is_synchronized_device()`` is True, so ``not
is_synchronized_device()`` is never true there and the CPU never reaches the branch: handled, noted
with the method's line. Nothing changes unless the CUDA backend's answer takes the branch (the
code is CUDA's path), and a target whose backend has no module, or no constant answer (a method with
logic, one inherited from elsewhere, an argument such as ``on_accelerator(tensor)``), keeps its
status. ROCm builds of PyTorch take the CUDA backend unless the project has a ROCm one.

The receiver must be the abstraction's own: a name defined (or annotated) in a module of the
backends' folder (DeepSpeed's ``get_accelerator`` in ``accelerator/real_accelerator.py``, vLLM's
``current_platform`` in ``vllm/platforms/__init__.py``); a same-named method of another object
changes nothing. The backend modules are read with `ast` (parsed, never run).
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from ..analyzers.backend_paths import dedicated_target
from ..model import TARGETS, FileResult, Finding, Reader, with_open_handled
from .backend_modules import sibling_modules

#: (receiver, method) -> target -> (answer, module, line of the method).
Answers = dict[tuple[str, str], dict[str, tuple[bool, str, int]]]
_MAX_DEPTH = 4


def mark_capability_branches(results: list[FileResult], files: dict[str, str], read: Reader) -> list[FileResult]:
    """``results`` with the targets that never take a capability branch handled there."""
    wanted = {(receiver, method) for r in results if r.facts is not None
              for _, _, receiver, method, _ in r.facts.capability_tests}
    answers = _answers(wanted, files, read) if wanted else {}
    if not answers:
        return results
    output = []
    for result in results:
        tests = result.facts.capability_tests if result.facts is not None else ()
        notes: dict[tuple[str, int], dict[str, str]] = {}
        for rule, line, receiver, method, runs_when in tests:
            for target, note in _never_taken(answers.get((receiver, method), {}), method, runs_when).items():
                notes.setdefault((rule, line), {}).setdefault(target, note)
        output.append(replace(result, findings=tuple(_handled(f, notes) for f in result.findings))
                      if notes else result)
    return output


def _never_taken(answers: dict[str, tuple[bool, str, int]], method: str, runs_when: bool) -> dict[str, str]:
    """Target -> note, for the targets whose backend's answer keeps them out of a branch that the
    CUDA backend's answer takes."""
    cuda = answers.get("cuda")
    if cuda is None or cuda[0] != runs_when:
        return {}
    return {target: f"{_asked(method, answer)} on its {target} backend ({module}:{line})"
            for target, (answer, module, line) in answers.items()
            if target in TARGETS and answer != runs_when}


def _asked(member: str, answer: bool) -> str:
    """``is_synchronized_device() is True``; an attribute (``.Stream``) ``Stream is None``."""
    if member.startswith("."):
        return f"{member[1:]} is {'not None' if answer else 'None'}"
    return f"{member}() is {answer}"


def _handled(finding: Finding, notes: dict[tuple[str, int], dict[str, str]]) -> Finding:
    return with_open_handled(finding, notes.get((finding.rule_id, finding.line), {}))


def _answers(wanted: set[tuple[str, str]], files: dict[str, str], read: Reader) -> Answers:
    """Each backend's constant answer to the wanted (receiver, method) pairs, per target."""
    folders: dict[str, list[str]] = {}
    for shown in files:
        if shown.endswith(".py"):
            folder, _, name = shown.rpartition("/")
            folders.setdefault(folder, []).append(name)
    found: Answers = {}
    for folder, names in folders.items():
        for name in names:
            siblings = sibling_modules(name, names)
            if not siblings or "cuda" not in name.lower():
                continue
            prefix = f"{folder}/" if folder else ""
            receivers = _defined({r for r, _ in wanted}, [prefix + n for n in names], files, read)
            methods = {m for r, m in wanted if r in receivers}
            if not methods:
                continue
            backends = {"cuda": name}
            for backend, module in siblings.items():
                target = _target(backend)
                if target is not None:
                    backends[target] = module
            per_target = {target: _constants(prefix + module, methods, files, read)
                          for target, module in backends.items()}
            per_target.setdefault("rocm", per_target["cuda"])  # a ROCm build takes the CUDA backend
            for receiver in receivers:
                for method in methods:
                    for target, constants in per_target.items():
                        if method in constants:
                            found.setdefault((receiver, method), {})[target] = constants[method]
    return found


def _target(backend: str) -> str | None:
    return "cpu" if backend == "cpu" else dedicated_target(backend)


def _defined(names: set[str], paths: list[str], files: dict[str, str], read: Reader) -> set[str]:
    """The names a module of the folder defines at its top or annotates (``current_platform: Platform``)."""
    found: set[str] = set()
    for path in paths:
        data = read(files[path])
        for name in names - found if data is not None else set():
            if data is not None and _declares(data, name.encode()):
                found.add(name)
    return found


def _declares(data: bytes, name: bytes) -> bool:
    """Does a line of ``data`` start by defining ``name`` (``def``/``class``), binding or annotating it?

    The pattern is anchored at a line's start and spans one line, so it is tried only on the lines that
    spell the name (searching a whole module with it, at every line, cost 0.2 s on the torch package);
    a module that does not spell the name is never searched."""
    pattern = rb"^[ \t]*(?:def|class)[ \t]+" + re.escape(name) + rb"\b|^[ \t]*" + re.escape(name) + rb"[ \t]*[:=]"
    at = data.find(name)
    while at != -1:
        end = data.find(b"\n", at)
        end = len(data) if end == -1 else end + 1
        if re.search(pattern, data[data.rfind(b"\n", 0, at) + 1 : end], re.MULTILINE):
            return True
        at = data.find(name, end)
    return False


def _constants(path: str, methods: set[str], files: dict[str, str], read: Reader) -> dict[str, tuple[bool, str, int]]:
    """Method -> (constant answer, module, line), when every class of the module defining it agrees."""
    data = read(files[path])
    try:
        tree = ast.parse(data) if data is not None else None
    except (SyntaxError, ValueError):
        tree = None
    answers: dict[str, tuple[bool, str, int] | None] = {}
    for cls in (node for node in tree.body if isinstance(node, ast.ClassDef)) if tree is not None else ():
        defined = {s.name: s for s in cls.body if isinstance(s, ast.FunctionDef)}
        for method in {m for m in methods if m in defined or m.startswith(".")}:
            if method.startswith("."):
                statement = _defining(cls, method[1:])
                if statement is None:
                    continue
                found = _not_none(statement)
                answer: tuple[bool, str, int] | None = (found, path, statement.lineno) if found is not None else None
            else:
                value = _constant(defined, method, _MAX_DEPTH)
                answer = (value, path, defined[method].lineno) if value is not None else None
            earlier = answers.get(method)
            if method in answers and (earlier is None or answer is None or earlier[0] != answer[0]):
                answers[method] = None
            else:
                answers.setdefault(method, answer)
    return {method: answer for method, answer in answers.items() if answer is not None}


def _defining(cls: ast.ClassDef, attribute: str) -> ast.stmt | None:
    """The statement of a class's body that defines ``attribute``: a method or a plain assignment."""
    for statement in cls.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == attribute or isinstance(statement, ast.Assign) \
                and [ast.unparse(t) for t in statement.targets] == [attribute]:
            return statement
    return None


def _not_none(statement: ast.stmt) -> bool | None:
    """Whether an attribute is not None, when evident: a ``@property`` returning ``None`` or a name or
    attribute (``torch.cuda.Stream``), or a class-level assignment of one of those."""
    value: ast.expr | None = None
    if isinstance(statement, ast.FunctionDef):
        body = [s for s in statement.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        if [ast.unparse(d) for d in statement.decorator_list] != ["property"] or len(body) != 1 \
                or not isinstance(body[0], ast.Return):
            return None
        value = body[0].value if body[0].value is not None else ast.Constant(None)
    elif isinstance(statement, ast.Assign):
        value = statement.value
    if isinstance(value, ast.Constant) and value.value is None:
        return False
    return True if isinstance(value, (ast.Name, ast.Attribute)) else None


def _constant(defined: dict[str, ast.FunctionDef], method: str, depth: int) -> bool | None:
    """``return True`` / ``return False``, or ``return self.other()`` of such a method of the class."""
    function = defined.get(method)
    if function is None or depth <= 0 or function.decorator_list and not all(
            isinstance(d, ast.Name) and d.id in ("classmethod", "staticmethod") for d in function.decorator_list):
        return None
    body = [s for s in function.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return None
    value = body[0].value
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return value.value
    if isinstance(value, ast.Call) and not value.args and not value.keywords \
            and isinstance(value.func, ast.Attribute) and isinstance(value.func.value, ast.Name) \
            and value.func.value.id in ("self", "cls"):
        return _constant(defined, value.func.attr, depth - 1)
    return None
