"""What the path taken without CUDA is: the "fallback path (cpu)" note and the CPU sentence.

The branch reading (`python_dispatch`) hands ``cpu`` to the path a CUDA test falls through to, and
the message then says that the accelerators no test names "may silently run on the CPU"
(`findings._fallback_noted`). Independent judges of the fifth session (docs/validation.md, #11, j10A
and j10B on ``caf4506``) found three shapes where that reading is wrong or inconsistent; each is read
here narrowly, and a shape not recognised keeps the old reading:

- a fall-through that is CUDA again (bitsandbytes' ``_get_tensor_stream``: ``if tensor.device.type ==
  "cuda": return <CUDA stream>``, two XPU tests, then ``return ...torch._C._cuda_getCurrentRawStream(
  torch.cuda.current_device())`` for CPU tensors): there is no CPU path, so no cpu note
  (`fall_through_spells_cuda`);
- operands of one build test read differently (xformers' ``if (torch.cuda.is_available() and
  CUDA_HOME ...) or os.getenv("FORCE_CUDA") == "1" or os.getenv("TORCH_CUDA_ARCH_LIST", "") != "":``):
  every operand of an ``or`` of CUDA tests and CUDA-named environment switches leads to the same CUDA
  build, and the same fall-through, as does that test's body (`forced_cuda_operand`);
- a fall-through that runs nothing on the CPU (TGI's ``if self.model.device.type == "cuda":
  torch.zeros((2, 2)).cuda()`` warm-up, a probe's falsy side, a report line): the sentence says "may
  silently run on the CPU" only where the path without CUDA spells the CPU (a ``"cpu"`` device,
  ``.cpu()``) or the CUDA side moves an object that otherwise stays on the host (``model.cuda()``);
  elsewhere it says only that the path is one no test names those targets in (`cpu_path_spelled`);
  an early exit counts by its code, not its message (accelerate's ``raise ImportError("To set CPU
  affinity ...")``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import tree_sitter as ts

from .findings import CPU_FALLBACK
from .matching import node_text
from .python_cuda_branches import operands
from .python_mentions import _REPORTING as REPORTING, only_raises
from .python_platform_tests import CUDA_BUILDS

_EXPRESSIONS = frozenset({"call", "attribute", "not_operator", "parenthesized_expression", "argument_list",
                          "boolean_operator", "comparison_operator", "subscript", "identifier", "string",
                          "keyword_argument", "conditional_expression", "list", "tuple", "binary_operator",
                          "string_content", "interpolation", "unary_operator", "concatenated_string"})
_EXITS = frozenset({"return_statement", "raise_statement"})
_DEFINITIONS = frozenset({"function_definition", "class_definition", "decorated_definition"})
#: CUDA spelled in a statement the way the analyzer reports it (LL1xx calls, ``"cuda"`` devices).
_CUDA_SPELLED = re.compile(r"""torch\.cuda\.|torch\._C\._cuda|\.cuda\(|["']cuda(?::\d+)?["']""")
#: The CPU spelled on a path: a device string, ``.cpu()``, a name, attribute or word ``cpu`` (``print("on CPU")``).
_CPU_SPELLED = re.compile(r"""(?i)["']cpu(?::\d+)?["']|\.cpu\(|\bcpu\b""")
#: An existing object moved to the device (``model.cuda()``, ``x = x.to(device)``): without CUDA it
#: stays on the host, where the code after it runs. Not a fresh value (``torch.zeros(2).cuda()``), and
#: not a cast that names only a dtype (``B.to(torch.float16)``, ``x.to(dtype=dtype)``), which moves
#: nothing: bitsandbytes' test cast a weight in an ``if`` that tests no device, and the CPU sentence
#: followed.
_MOVED = re.compile(r"""[\w\]]\.(?:cuda\(|to\((?!\s*(?:torch\.(?:u?int\d*|float\d*\w*|bfloat16|half|double|bool"""
                    r"""|long|short|complex\d*|qint\d+|quint\w+)\s*[,)]|[\w.]*dtype\b)))""")
_COMMENT = re.compile(r"#[^\n]*")
#: A name or attribute assigned (``device = ...``, ``self.device = ...``).
_ASSIGNED = re.compile(r"^\s*((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)", re.M)
#: An environment switch that names CUDA (``FORCE_CUDA``, ``TORCH_CUDA_ARCH_LIST``).
_CUDA_SWITCH = re.compile(r"""(?:getenv|environ)[\s\S]*["'][A-Z_]*CUDA[A-Z_]*["']""")

PlatformsOf = Callable[[ts.Node | None], frozenset[str] | None]


def _text(node: ts.Node) -> str:
    return _COMMENT.sub("", node_text(node))


#: A string literal that is no CPU device: torch spells devices in lower case, so ``BNB_BACKEND =
#: "CPU"`` (bitsandbytes' ``cextension.py``, which only picks the native library to load) is a label,
#: not the CPU spelled as the path a chain assigns (h2, #11, eighth session).
_LABEL = re.compile(r"""[rbuRBUfF]{0,2}(["'])(?!cpu(?::[^"']*)?\1)[^"'\n]*\1""")
_CPU_LITERAL = re.compile(r"""^[rbuRBU]?["']cpu(?::\d+)?["']$""", re.I)


def _code_text(node: ts.Node, logged_only: bool = False) -> str:
    """``node``'s text without comments and without its string literals other than a whole CPU
    device (``"cpu"``, ``'cpu:0'``): the code, not a message (``raise ImportError("To set CPU
    affinity ...")`` names the CPU without running anything there). With ``logged_only``, only the
    strings inside a print, log or warning call go (accelerate's ``else: print("Launching training
    on CPU.")`` words a line, it runs nothing on the CPU)."""
    pieces: list[bytes] = []
    at, stack = node.start_byte, [(node, not logged_only)]
    spans: list[tuple[int, int]] = []
    while stack:
        current, dropped = stack.pop()
        if current.type == "string":
            if dropped and not _CPU_LITERAL.match(node_text(current)):
                spans.append((current.start_byte, current.end_byte))
            continue
        if current.type == "call" and not dropped:
            dropped = node_text(current.child_by_field_name("function")).rsplit(".", 1)[-1] in REPORTING
        stack.extend((child, dropped) for child in current.named_children)
    source = node.text or b""
    for start, end in sorted(spans):
        pieces.append(source[at - node.start_byte:start - node.start_byte])
        pieces.append(b'""')
        at = end
    pieces.append(source[at - node.start_byte:])
    return _COMMENT.sub("", b"".join(pieces).decode(errors="replace"))


def _body(node: ts.Node | None) -> list[ts.Node]:
    return [s for s in node.named_children if s.type != "comment"] if node is not None else []


def _if_around(node: ts.Node) -> ts.Node | None:
    """The nearest ``if`` statement whose test or one of whose clauses holds ``node``, within its
    function."""
    parent = node.parent
    while parent is not None and parent.type not in _DEFINITIONS:
        if parent.type == "if_statement":
            return parent
        parent = parent.parent
    return None


def _has_else(stmt: ts.Node) -> bool:
    return any(a.type == "else_clause" for a in stmt.children_by_field_name("alternative"))


def _exits(body: ts.Node | None) -> bool:
    statements = _body(body)
    return bool(statements) and statements[-1].type in _EXITS


def fall_through_spells_cuda(node: ts.Node, platforms_of: PlatformsOf) -> bool:
    """Is the statement reached right after the chain ``node`` is in, past the early exits of other
    platform tests, a return or expression that spells CUDA? Only for an else-less chain whose
    every branch returns or raises (so that statement is reached only when every test is false);
    the chain's own statement and the very next one decide, not calls into other functions."""
    stmt = _if_around(node)
    if stmt is None or _has_else(stmt) or stmt.parent is None or stmt.parent.type != "block" \
            or not all(_exits(b) for b in [stmt.child_by_field_name("consequence")] + [
                a.child_by_field_name("consequence") for a in stmt.children_by_field_name("alternative")]):
        return False
    following = stmt.next_named_sibling
    while following is not None:
        if following.type == "comment":
            following = following.next_named_sibling
            continue
        if following.type == "if_statement" and not _has_else(following) \
                and platforms_of(following.child_by_field_name("condition")) is not None \
                and _exits(following.child_by_field_name("consequence")):
            following = following.next_named_sibling
            continue
        return following.type in ("return_statement", "expression_statement") \
            and bool(_CUDA_SPELLED.search(_text(following)))
    return False


def forced_cuda_operand(node: ts.Node, platforms_of: PlatformsOf) -> bool:
    """Is ``node`` in the test of an ``if`` (no ``else`` that only raises) that is an ``or`` of CUDA
    tests (``platforms_of`` says they are true on CUDA builds only) and environment switches naming
    CUDA (``os.getenv("FORCE_CUDA", "0") == "1"``), one at least a CUDA test? Each operand then leads
    to the same CUDA build and shares its fall-through. Or in the body of such an ``if`` (xformers'
    ``get_cuda_version(CUDA_HOME)``, any depth in its function): without CUDA and with no switch set
    that body is skipped for the same fall-through (the CPU build)."""
    child, parent = node, node.parent
    while parent is not None and parent.type in _EXPRESSIONS:
        child, parent = parent, parent.parent
    if parent is not None and parent.type in ("if_statement", "elif_clause") \
            and parent.child_by_field_name("condition") == child:
        return _forced_cuda_test(parent, child, platforms_of)
    while parent is not None and parent.type not in _DEFINITIONS:
        if parent.type == "if_statement" and parent.child_by_field_name("consequence") == child \
                and _forced_cuda_test(parent, parent.child_by_field_name("condition"), platforms_of):
            return True
        child, parent = parent, parent.parent
    return False


def _forced_cuda_test(clause: ts.Node, test: ts.Node | None, platforms_of: PlatformsOf) -> bool:
    """`forced_cuda_operand`'s test: ``test`` of ``clause`` (an ``if`` or ``elif``) is an ``or`` of
    CUDA tests and CUDA-named switches, and the chain has no ``else`` that only raises."""
    chain = clause if clause.type == "if_statement" else clause.parent
    if test is None or chain is None or any(a.type == "else_clause" and only_raises(a.child_by_field_name("body"))
                                            for a in chain.children_by_field_name("alternative")):
        return False
    parts = operands(test, "or")
    cuda = [bool(platforms_of(p)) and (platforms_of(p) or frozenset()) <= CUDA_BUILDS for p in parts]
    return len(parts) > 1 and any(cuda) and all(
        one or (p.type != "not_operator" and bool(_CUDA_SWITCH.search(_text(p)))) for one, p in zip(cuda, parts))


def cpu_path_spelled(node: ts.Node) -> bool:
    """Does the path without CUDA around ``node`` visibly run on the CPU? The other side of the
    conditional expression ``node`` is in spells the CPU; or, for an ``if`` chain around ``node`` (at
    any depth of its function): another clause spells it, a statement before the chain sets a name
    the chain assigns to the CPU (``device = "cpu"``), or the clause holding ``node`` moves an
    existing object to the device (which otherwise stays on the host); or an early exit before
    ``node`` in a block around it spells it (``if not cuda: return "cpu"``). A statement before
    the chain counts when one of its lines assigns the CPU to a name the chain assigns or tests
    (``device = "cpu"`` before ``if device == "cuda":``)."""
    child, parent = node, node.parent
    while parent is not None and parent.type in _EXPRESSIONS:
        if parent.type == "conditional_expression" and parent.named_child_count == 3 \
                and child != parent.named_children[2]:
            return bool(_CPU_SPELLED.search(_text(parent.named_children[2])))
        child, parent = parent, parent.parent
    child, parent = node, node.parent
    while parent is not None and parent.type not in _DEFINITIONS:
        if parent.type == "if_statement" and _chain_spells_cpu(parent, child):
            return True
        if parent.type in ("block", "module") and any(
                s.type == "if_statement" and s.end_byte <= child.start_byte
                and _exits(s.child_by_field_name("consequence")) and _CPU_SPELLED.search(_code_text(s))
                for s in parent.named_children):
            return True
        child, parent = parent, parent.parent
    return False


#: A test that the device is the CPU (``get_accelerator().device_name() == 'cpu'``), and its negation.
_IS_CPU = re.compile(r"""^[^\n]*==\s*["']cpu["']\s*$""")
_IS_NOT_CPU = re.compile(r"""^[^\n]*!=\s*["']cpu["']\s*$""")


def refuses_all_but_cpu(body: ts.Node | None) -> bool:
    """Does ``body`` start by refusing every device but the CPU (``assert <device> == 'cpu'``, or
    ``if <device> != 'cpu': raise ...``)? Such a clause is a CPU branch plus a refusal: an
    accelerator no test names fails there, it does not silently run on the CPU (DeepSpeed's
    ``set_accelerator_visible``, docs/validation.md, #11, sixth session, f18a)."""
    statements = _body(body)
    if not statements:
        return False
    first = statements[0]
    if first.type == "assert_statement" and first.named_children:
        return bool(_IS_CPU.match(_text(first.named_children[0]).strip()))
    if first.type == "if_statement" and not list(first.children_by_field_name("alternative")):
        test = first.child_by_field_name("condition")
        return test is not None and bool(_IS_NOT_CPU.match(_text(test).strip())) \
            and only_raises(first.child_by_field_name("consequence"))
    return False


def _names_in(node: ts.Node | None) -> list[ts.Node]:
    """The names and attributes (``device``, ``model.device``) a test reads."""
    found, stack = [], [node] if node is not None else []
    while stack:
        current = stack.pop()
        if current.type in ("identifier", "attribute"):
            found.append(current)
        stack.extend(current.named_children)
    return found


def _chain_spells_cpu(stmt: ts.Node, child: ts.Node) -> bool:
    """`cpu_path_spelled` for the chain ``stmt``, ``child`` the part of it that holds the node."""
    clauses = [stmt.child_by_field_name("consequence")] + list(stmt.children_by_field_name("alternative"))
    if child == stmt.child_by_field_name("condition"):
        own = None
    elif child.type in ("elif_clause", "else_clause"):
        own = child
    else:
        own = child if child in clauses else None
    if own is not None and _MOVED.search(_text(own)):
        return True
    if any(c is not None and c != own and c.type in ("elif_clause", "else_clause")
           and not refuses_all_but_cpu(c.child_by_field_name("consequence") or c.child_by_field_name("body"))
           and _CPU_SPELLED.search(_code_text(c.child_by_field_name("consequence") or c.child_by_field_name("body") or c,
                                              logged_only=True))
           for c in clauses):
        return True
    names = set(_ASSIGNED.findall(_text(stmt)))
    for condition in [stmt.child_by_field_name("condition")] + [
            c.child_by_field_name("condition") for c in clauses if c is not None and c.type == "elif_clause"]:
        names |= {node_text(n) for n in _names_in(condition)}
    before = stmt.prev_named_sibling
    while before is not None and names:
        if before.type not in _DEFINITIONS and any(
                m.group(1) in names and _CPU_SPELLED.search(_LABEL.sub('""', line))
                for line in _text(before).splitlines() if (m := _ASSIGNED.match(line)) is not None):
            return True
        before = before.prev_named_sibling
    return False


def fall_through_notes(node: ts.Node, notes: dict[str, str], platforms_of: PlatformsOf) -> tuple[dict[str, str], bool]:
    """``notes`` with the cpu fall-through read as above, and whether a CPU fallback there visibly
    runs on the CPU (for the message's sentence)."""
    if "cpu" not in notes and forced_cuda_operand(node, platforms_of):
        notes = notes | {"cpu": CPU_FALLBACK}
    if notes.get("cpu") != CPU_FALLBACK:
        return notes, True
    if fall_through_spells_cuda(node, platforms_of):
        return {t: how for t, how in notes.items() if t != "cpu"}, True
    return notes, cpu_path_spelled(node)
