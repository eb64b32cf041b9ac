"""Mentions of CUDA that only word a message: not lock-in.

Independent judges found two such shapes debatable (docs/validation.md, #11): a backend test whose
branch only adds a hint to a warning (DeepSpeed's ``env_report.py``: ``if
communication_backend_name() == "nccl": warn.append(" see NCCL's troubleshooting page ...")``), and
``CUDA_HOME`` printed in a failure message (``f"cannot find CUDA_HOME ... ={CUDA_HOME}"``) beside the
line that decides with it, which is reported. Nothing runs differently on another platform because
of either: the first is dropped, the second too when the same rule is reported elsewhere in the
file (so a file never loses its only finding of a dependency).

The branch test is read on its own clause (#11, seventh session, f20c): accelerate's launcher picks
a log line with ``if is_mps_available(): os.environ[...] = "1"; print(...)`` / ``elif
torch.cuda.is_available(): print("Launching training on one GPU.")`` / ... / ``else: print(...)`` and
then runs ``function(*args)`` alike everywhere. The clause the CUDA test opens and every later one
(where a platform without CUDA goes instead) only print, so it is dropped as an all-print chain is;
an earlier clause is taken alike with or without CUDA. A later clause that raises, returns or sets
a value, or a CUDA clause that does more than word a message, keeps the finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import tree_sitter as ts

from .matching import RawMatch, node_text

#: Calls that only print, log or warn, by their last name component.
_REPORTING = frozenset({"print", "warn", "warning", "warnings", "info", "debug", "error", "exception",
                        "critical", "log", "print_rank_0", "log_dist", "warning_once", "info_once",
                        "warn_once"})
#: Calls that add text to a message being built (``warn.append(f"...")``): only with string arguments.
_COLLECTING = frozenset({"append", "extend", "write", "add"})
_STRINGS = frozenset({"string", "concatenated_string"})
#: What a message being built is called (``warn.append(...)``, ``msg += ...``); text added to anything
#: else may be a decision (``install_requires.append("nvidia-ml-py")``, ``devices.append("cuda")``).
_MESSAGE_NAME = re.compile(r"(?i)(warn|msg|message|error|hint|note|report|log)")
#: Words of a returned failure text (``return f"[FAIL] cannot find CUDA_HOME ..."``).
_FAILURE_TEXT = re.compile(r"(?i)fail|cannot|can't|not found|missing|unable|error|warning")
_EXCEPTION = re.compile(r"(Error|Exception|Warning)$")


def only_diagnostic(body: ts.Node | None) -> bool:
    """Does ``body`` only print, log, warn or build message text (and at least one of them: an empty
    ``pass`` branch words nothing)?"""
    statements = [s for s in body.named_children if s.type not in ("comment", "pass_statement")] \
        if body is not None else []
    return bool(statements) and all(only_diagnostic_statement(s) for s in statements)


def only_raises(body: ts.Node | None) -> bool:
    """Does ``body`` only raise ("only supported on NVIDIA GPUs")? Such a branch handles nothing."""
    statements = [s for s in body.named_children if s.type != "comment"] if body is not None else []
    return bool(statements) and all(s.type == "raise_statement" for s in statements)


def branch_bodies(stmt: ts.Node) -> list[ts.Node | None]:
    """The blocks of an ``if`` statement: its body, then each ``elif``'s and the ``else``'s."""
    return [stmt.child_by_field_name("consequence")] + [
        a.child_by_field_name("consequence") or a.child_by_field_name("body")
        for a in stmt.children_by_field_name("alternative")]


def only_diagnostic_statement(stmt: ts.Node) -> bool:
    """Does the one statement ``stmt`` only print, log, warn or build message text? (`python_probes`
    allows such beside the flag an ``except ImportError`` turns off.)"""
    kind = stmt.type
    if kind == "if_statement":
        return all(only_diagnostic(b) for b in branch_bodies(stmt))
    if kind == "augmented_assignment":
        left = node_text(stmt.child_by_field_name("left"))
        return bool(_MESSAGE_NAME.search(left)) and _textual(stmt.child_by_field_name("right"))
    if kind != "expression_statement" or stmt.named_child_count != 1:
        return False
    call = stmt.named_children[0]
    if call.type != "call":
        return False
    function, args = call.child_by_field_name("function"), call.child_by_field_name("arguments")
    name = node_text(function).rsplit(".", 1)[-1]
    if name in _REPORTING:
        return True
    values = args.named_children if args is not None else []
    receiver = function.child_by_field_name("object") if function is not None and function.type == "attribute" else None
    return (name in _COLLECTING and receiver is not None and bool(_MESSAGE_NAME.search(node_text(receiver)))
            and bool(values) and all(_textual(v) for v in values))


def _textual(node: ts.Node | None) -> bool:
    """A string, an f-string or a ``+`` of them."""
    if node is None:
        return False
    if node.type in _STRINGS:
        return True
    if node.type == "parenthesized_expression" and node.named_child_count == 1:
        return _textual(node.named_children[0])
    if node.type == "binary_operator" and node_text(node.child_by_field_name("operator")) == "+":
        return _textual(node.child_by_field_name("left")) or _textual(node.child_by_field_name("right"))
    return False


def _message_test(node: ts.Node, platform_test: Callable[[ts.Node], bool]) -> ts.Node | None:
    """The ``if`` statement whose device/platform/backend test (``platform_test``) ``node`` is part
    of, when its every branch only words a message; else None. (Other tests, such as ``"NCCL_DEBUG"
    not in os.environ``, stay: reading an NCCL setting is itself what the rule is about.)"""
    child, parent = node, node.parent
    while parent is not None and parent.type not in ("block", "module"):
        if parent.type in ("if_statement", "elif_clause") and parent.child_by_field_name("condition") == child:
            stmt = parent if parent.type == "if_statement" else parent.parent
            if stmt is None or stmt.type != "if_statement" or not platform_test(child):
                return None
            return stmt if _rest_only_diagnostic(stmt, parent) else None
        child, parent = parent, parent.parent
    return None


def _rest_only_diagnostic(stmt: ts.Node, clause: ts.Node) -> bool:
    """Do the clause whose test holds the match (``clause``: the ``if`` itself or an ``elif``) and
    every clause after it only word a message? Clauses before it are taken alike with or without
    CUDA, so what they do (accelerate's ``if is_mps_available(): os.environ[...] = "1"`` before
    ``elif torch.cuda.is_available(): print("Launching training on one GPU.")``) does not make the
    CUDA test decide anything; a later clause that raises, returns or sets a value does."""
    bodies = branch_bodies(stmt)
    alternatives = list(stmt.children_by_field_name("alternative"))
    first = 0 if clause == stmt else alternatives.index(clause) + 1 if clause in alternatives else None
    return first is not None and all(only_diagnostic(b) for b in bodies[first:])


def _guards_a_match(stmt: ts.Node, raw: list[RawMatch]) -> bool:
    """Does a branch of ``stmt`` hold another match (``print(torch.cuda.device_count())``)? Then the
    test guards CUDA code, and is reported with it."""
    spans = [(b.start_byte, b.end_byte) for b in branch_bodies(stmt) if b is not None]
    return any(start <= m.node.start_byte < end for m in raw for start, end in spans)


def _only_in_message(node: ts.Node) -> bool:
    """Is ``node`` a value (not called) shown in a message: an argument of ``print``, a logger or an
    exception, alone or interpolated in an f-string there, or in a ``"...".format(...)`` that is only
    the argument of a raised exception (flash-attention's ``raise RuntimeError("... compiled with Cuda
    {}.".format(torch.version.cuda) + ...)``), or in a returned failure text?"""
    parent = node.parent
    if parent is not None and parent.type == "call" and parent.child_by_field_name("function") == node:
        return False
    text: ts.Node | None = None  # the f-string around it
    formatted = False  # whether it went through a ``"...".format(...)``
    while parent is not None and parent.type not in ("block", "module", "expression_statement"):
        if parent.type == "string" and text is None:
            text = parent
        elif parent.type == "argument_list" and parent.parent is not None:
            call = parent.parent
            template = _format_template(call)
            if template is not None:  # ``"... Cuda {}.".format(torch.version.cuda)``: only text so far
                text, formatted, parent = text or template, True, call.parent
                continue
            callee = node_text(call.child_by_field_name("function")).rsplit(".", 1)[-1]
            if formatted:  # only into a raised exception: DeepSpeed's ``logger.info("...".format(amp.__path__))``
                raised = call.parent  # is a probe (a NameError when apex is missing), judged true
                return bool(_EXCEPTION.search(callee)) and raised is not None and raised.type == "raise_statement"
            return callee in _REPORTING or bool(_EXCEPTION.search(callee))
        elif parent.type == "return_statement":
            return text is not None and bool(_FAILURE_TEXT.search(node_text(text)))
        elif parent.type not in ("interpolation", "binary_operator", "parenthesized_expression", "attribute",
                                 "concatenated_string", "string"):
            return False
        parent = parent.parent
    return False


def _format_template(call: ts.Node) -> ts.Node | None:
    """The string literal of ``call`` when it is ``"<text>".format(...)``: its result is text, so a
    value formatted into it is shown, not used, when that text only goes to a message."""
    function = call.child_by_field_name("function")
    if function is None or function.type != "attribute" or node_text(function.child_by_field_name("attribute")) != "format":
        return None
    template = function.child_by_field_name("object")
    return template if template is not None and template.type in _STRINGS else None


def drop_diagnostic_mentions(raw: list[RawMatch], platform_test: Callable[[ts.Node], bool]) -> list[RawMatch]:
    """``raw`` without platform tests (``platform_test`` says which conditions are) whose branches
    only word a message and hold no other match, and without values only shown in a message when the
    same rule is matched elsewhere in the file."""
    tests = [_message_test(m.node, platform_test) for m in raw]
    kept = [m for m, stmt in zip(raw, tests) if stmt is None or _guards_a_match(stmt, raw)]
    shown = [_only_in_message(m.node) for m in kept]
    if not any(shown):
        return kept
    used = {m.rule.id for m, only in zip(kept, shown) if not only}
    return [m for m, only in zip(kept, shown) if not (only and m.rule.id in used)]
