"""Python sources: tree-sitter parse, then the rule-driven matcher (`python_matcher`), plus the
requirements a ``setup.py`` declares and calls into the run's own CUDA extensions. Findings in a
test that is always skipped are kept but reported apart (`python_skipped_tests`)."""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from ..kb.prefilter import file_words, is_candidate, present_triggers
from ..model import FileError, FileFacts, FileResult
from .backend_paths import dedicated_backend
from .context import FileContext, RunContext
from .extensions import extension_builds, setup_requirements
from .findings import skipped, tree_result, with_facts
from .matching import RawMatch
from .op_calls import LinkTable, OpCallMatcher
from .python_bound_functions import apply_bound_functions
from .python_callers import rocm_only_callers
from .python_capabilities import capability_branches
from .python_compound_flags import apply_compound_flags
from .python_cpu_tensors import drop_cpu_operators
from .python_cuda_asserts import drop_rejected_fallbacks
from .python_cuda_flags import apply_flag_else
from .python_cuda_rebinds import cuda_rebinds
from .python_cuda_tables import apply_cuda_tables
from .python_instance_flags import apply_instance_flags
from .python_dead_branches import drop_dead_branches
from .python_defined_ops import apply_defined_ops
from .python_device_guards import apply_device_guards
from .python_dispatch import apply_dispatch
from .python_env_joins import join_env_settings
from .python_extension_flags import apply_extension_flags
from .python_faked_cuda_tests import mark_faked_cuda_tests
from .python_hip_beside import apply_hip_beside
from .python_host_only_tests import mark_host_only_tests
from .python_fallback_imports import apply_fallback_imports, public_unused_imports
from .python_gpu_options import gpu_option_branches
from .python_imported_flags import flag_imports
from .python_imported_rocm_flags import imported_rocm_flag_uses, rocm_flag_bindings
from .python_rocm_only_marks import rocm_only_mark_uses, rocm_only_marks
from .python_joins import join_constructs
from .python_platform_else import apply_platform_else
from .python_portable_else import apply_portable_else
from .python_probed_uses import apply_probed_uses
from .python_probes import apply_probes
from .python_rocm_arch import apply_rocm_arch_lists
from .python_rocm_bindings import apply_rocm_bindings
from .python_runtime_fallbacks import apply_runtime_fallbacks
from .python_skip_guards import drop_skipped_off_cuda
from .python_probe_family import mark_probe_family
from .python_probe_locals import apply_probe_locals
from .python_reported_versions import mark_reported_versions
from .python_skipped_tests import mark_skipped_tests
from .python_stream_guards import apply_stream_guards
from .python_swallowed import apply_swallowed
from .python_triton_fallbacks import apply_triton_fallbacks
from .python_type_checker_inputs import mark_type_checker_inputs
from .python_matcher import FileMatcher
from .python_tensors import defined_methods, operator_methods, unproven_methods
from .python_mentions import drop_diagnostic_mentions
from .python_nvidia_fall_through import apply_nvidia_fall_through
from .python_platform_tests import is_platform_test
from .python_version_locals import apply_version_locals
from .source import decode_python

class PythonAnalyzer:
    language = "python"

    def check(self, path: str, data: bytes, ctx: FileContext) -> FileResult:
        run = ctx.run
        words = file_words(data)
        present = present_triggers(run.python, data, words)
        setup_py = path.rsplit("/", 1)[-1] == "setup.py"  # its requirements need no Python trigger
        if ctx.prefilter and not setup_py and not is_candidate(run.python, data, present, words):
            return skipped(run, path, data, ctx.lines, run.python_parser)
        decoded = decode_python(data)
        tree = run.python_parser.parse(decoded.data)
        raw = python_matches(run, path, decoded.data, tree, present, ctx.links)
        problems: list[FileError] = []
        if setup_py:
            raw += _setup_requirements(run, path, tree, problems)
        kept = reported(run, raw)
        result = tree_result(run, path, decoded, tree, kept, ctx.lines, problems)
        if result.findings and b"skip" in decoded.data:  # tests always skipped: reported apart
            result = replace(result, findings=mark_skipped_tests(result.findings, decoded.data, tree.root_node,
                                                                 path.rsplit("/", 1)[-1]))
        if result.findings:  # in a test file: faked torch.cuda probes, a test placing nothing on a device
            result = replace(result, findings=mark_host_only_tests(mark_faked_cuda_tests(
                result.findings, decoded.data, tree.root_node, path), tree.root_node, path))
        if result.findings and b"pyre_extensions" in decoded.data:  # a pyre stub test file: never run
            result = replace(result, findings=mark_type_checker_inputs(result.findings, decoded.data,
                                                                       tree.root_node, path))
        if result.findings and b"torch.version.cuda" in decoded.data:  # a version only an env report shows
            result = replace(result, findings=mark_reported_versions(result.findings, tree.root_node))
        if result.findings and b"_available" in decoded.data:  # the CUDA member of a probe family
            result = replace(result, findings=mark_probe_family(result.findings, tree.root_node,
                                                                path.rsplit("/", 1)[-1]))
        return with_facts(result, FileFacts(builds=extension_builds(raw),
                                            rocm_callers=rocm_only_callers(decoded.data, tree.root_node, kept),
                                            unproven_methods=unproven_methods(kept, decoded.data),
                                            flag_imports=flag_imports(tree.root_node, kept),
                                            capability_tests=capability_branches(decoded.data, kept),
                                            unused_imports=public_unused_imports(kept, decoded.data),
                                            cuda_rebinds=cuda_rebinds(decoded.data, tree.root_node),
                                             rocm_flags=rocm_flag_bindings(tree.root_node),
                                             rocm_flag_uses=imported_rocm_flag_uses(tree.root_node, kept),
                                             rocm_only_marks=rocm_only_marks(tree.root_node),
                                             rocm_only_mark_uses=rocm_only_mark_uses(tree.root_node, kept),
                                             gpu_options=gpu_option_branches(words, kept),
                                            defined_methods=tuple(sorted(defined_methods(
                                                decoded.data, tree.root_node, _present_methods(run, present))))))


def _present_methods(run: RunContext, present: list[bytes]) -> frozenset[str]:
    """The operator method names the file spells (the prefilter found them): only those can it define."""
    words = {token.decode() for token in present}
    return operator_methods(run.python) & words if words else frozenset()


def python_matches(run: RunContext, path: str, source: bytes, tree: ts.Tree, present: list[bytes],
                   links: LinkTable | None) -> list[RawMatch]:
    """The file's matches, builds included; `reported` drops the rules matched only for builds.

    A file dedicated to another backend (``platforms/rocm.py``, ``xpu_accelerator.py``) is that
    backend's code, and a match in a branch for another platform (or in a test pytest runs only
    there, `python_skip_guards`) is that platform's code: neither is CUDA lock-in, nor is a match in a
    branch a literal test rules out (``if True: ... else: <dead>``, `python_dead_branches`). A fallback a
    later ``assert`` on CUDA rejects handles nothing (`python_cuda_asserts`). Nor is a mention that
    only words a message (`python_mentions`), nor an operator on a tensor that never leaves the CPU
    (`python_cpu_tensors`). A match whose flag's ``else`` already calls its portable rewrite is
    handled (`python_portable_else`), as are the targets a platform chain's ``else`` reaches through
    ``current_platform.<attr>`` (`python_platform_else`), and those a platform chain's other branches
    handle for a module function the file only binds in its CUDA branches (`python_bound_functions`),
    so is one in the body of a CUDA-only flag whose ``else`` is
    every other target's path (`python_cuda_flags`), or in the body of an instance flag only a CUDA
    test can set (`python_instance_flags`), cpu on the false side of a flag stored once from an ``or`` with
    a negated CUDA test (`python_compound_flags`), and so is an import inside an availability probe
    (`python_probes`), or a call of a name only such a probe imports behind its flag (`python_probed_uses`),
    or an optional import that only upgrades a portable class
    (`python_fallback_imports`), and a CUDA extension's call behind its own import's flag with a
    portable ``else`` (`python_extension_flags`); ROCm is handled for a CUDA architecture list whose function names a
    ROCm one (`python_rocm_arch`), and every target for stream bookkeeping behind ``if x.is_cuda:``
    (`python_stream_guards`), the CPU for an operator method behind ``if x.device.type != "cpu":`` on
    the same tensor (`python_device_guards`), and rocm for a call through a name the module binds to a ROCm-only
    package on ROCm (`python_rocm_bindings`); a local bound to ``torch.version.cuda`` and read only
    behind a test of it reads like the inline test (`python_version_locals`), a probe kept in a local
    only `if` tests read gives its line the notes of the chains on it (`python_probe_locals`), and rocm is handled for
    a ``torch.version.cuda`` only shown beside a ``torch.version.hip`` read (`python_hip_beside`); a
    table entry registered only under an NVIDIA-only test is noted so on every target (`python_cuda_tables`),
    and mps for a Triton kernel behind its import's flag whose launchers fall back to plain torch
    (`python_triton_fallbacks`). A match whose error an ``except`` swallows keeps its statuses; its
    message says what then silently happens (`python_swallowed`). Every target is handled for an op
    whose schema the file itself defines with no kernel (`python_defined_ops`), for a CUDA import only in the
    old-torch ``else`` of a ``hasattr`` probe for the portable API, and for a ``"cuda"`` whose conditional's ``else``
    asks the runtime for the device (`python_runtime_fallbacks`).
    """
    if dedicated_backend(path) is not None:
        return []
    raw = FileMatcher(run.python, source, tree.root_node).run(present)
    if links and run.link_rule is not None:
        raw += OpCallMatcher(links, run.link_rule, path, source, tree.root_node).run()
    raw = drop_skipped_off_cuda(drop_dead_branches(raw, source), source)
    dispatched = drop_diagnostic_mentions(apply_cuda_tables(apply_nvidia_fall_through(drop_rejected_fallbacks(
        apply_hip_beside(apply_probe_locals(apply_version_locals(apply_bound_functions(
            apply_dispatch(raw, path), path, tree.root_node)), path, apply_dispatch), path)), path), path),
                                          is_platform_test)
    flagged = apply_compound_flags(apply_instance_flags(apply_flag_else(drop_cpu_operators(dispatched, source), path),
                                                        path), path)
    handled = apply_extension_flags(apply_triton_fallbacks(apply_probed_uses(apply_probes(apply_platform_else(apply_portable_else(
        flagged, path), path, source, tree.root_node)), tree.root_node), tree.root_node, path), path)
    return apply_runtime_fallbacks(apply_defined_ops(apply_swallowed(apply_rocm_bindings(apply_device_guards(
        apply_stream_guards(apply_rocm_arch_lists(apply_fallback_imports(handled), path), path), path), path, source,
        tree.root_node)), path, source, tree.root_node), path)


def calls_extension_ops(run: RunContext, path: str, data: bytes, links: LinkTable) -> bool:
    """Does this file call one of the run's extension ops? Only then can checking it again with
    ``links`` change its result (`python_matches` adds nothing else), so the cross-file pass parses
    it and walks it for op calls alone, and re-checks in full only the few files that do (a file
    that spells none of the ops is not even parsed)."""
    if dedicated_backend(path) is not None or run.link_rule is None:
        return False
    source = decode_python(data).data
    if not links.spells_an_op(source):
        return False
    return bool(OpCallMatcher(links, run.link_rule, path, source, run.python_parser.parse(source).root_node).run())


def reported(run: RunContext, raw: list[RawMatch]) -> list[RawMatch]:
    """The matches that become findings: the selected rules', one per construct."""
    return join_env_settings(join_constructs([m for m in raw if m.rule.id not in run.unreported]
                                             if run.unreported else raw))


def _setup_requirements(run: RunContext, path: str, tree: ts.Tree, problems: list[FileError]) -> list[RawMatch]:
    """``setup(install_requires=[...])`` strings, judged by the dependency rules."""
    from packaging.requirements import InvalidRequirement  # 20-35 ms: only a setup.py needs it

    from .manifest_reader import match_package, parse_requirement

    rules = run.package_rules("deps")
    found = []
    for spec, node in setup_requirements(tree.root_node):
        try:
            dependency = parse_requirement(spec, node.start_point.row + 1, node.start_point.column + 1)
        except InvalidRequirement as exc:
            problems.append(FileError(path, f"line {node.start_point.row + 1}: invalid requirement {spec!r} "
                                            f"in setup(): {exc}", partial=True))
            continue
        matched = match_package(dependency, rules)
        if matched is not None:
            found.append(RawMatch(matched[0], matched[1], node))
    return found
