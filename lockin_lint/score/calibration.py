"""The public anchors the default costs are held against, and the assumptions a report states.

An estimate a decision-maker can trust says what it assumes and where its numbers come from. The
anchors below are cited in docs/scoring.md with what the model gives for each (measured with
``lockin-lint report`` on the repositories named there); ``assumptions`` is the plain-language list
every report carries, generated from the model in use so a configured model states its own values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .effort import EffortModel


@dataclass(frozen=True)
class Anchor:
    source: str
    url: str
    says: str
    model_part: str


ANCHORS: tuple[Anchor, ...] = (
    Anchor("AMD lab notes, 'Application portability with HIP'",
           "https://gpuopen.com/learn/amd-lab-notes/amd-lab-notes-hipify-readme/",
           "porting scientific CUDA applications to HIP took from a few hours to a few weeks; most calls "
           "convert by replacing cuda with hip",
           "kernel-translate, rename"),
    Anchor("HIP porting guide (hipexamine on Rodinia kmeans)",
           "https://rocm.docs.amd.com/projects/HIP/en/develop/user_guide/hip_porting_guide.html",
           "a 185-line CUDA program: 40 CUDA references converted automatically, 0 warnings",
           "rename, kernel-translate-line"),
    Anchor("Intel DPC++ Compatibility Tool / SYCLomatic guide",
           "https://oneapi-src.github.io/SYCLomatic/get_started/index.html",
           "typically 90%-95% of CUDA code migrates to SYCL automatically; the rest is reviewed by hand",
           "kernel-translate (xpu), adapt"),
    Anchor("Intel, 'SYCLomatic: a new CUDA-to-SYCL code migration tool' (Argonne CRK-HACC)",
           "https://www.intel.com/content/www/us/en/developer/articles/technical/"
           "syclomatic-new-cuda-to-sycl-code-migration-tool.html",
           "over 20 CUDA kernels migrated quickly with the tool, then refactored with a custom Clang tool",
           "kernel-translate"),
    Anchor("Industry figure for assisted model migration to a domestic accelerator (issue #14)",
           "",
           "an assisted migration of a PyTorch model fell from 21 to 7 days",
           "rename, edit, adapt (Python model code after check --fix)"),
    Anchor("vLLM Ascend plugin (vllm-project/vllm-ascend)",
           "https://docs.vllm.ai/projects/ascend/en/latest/",
           "vLLM reaches Ascend through a separate, community-maintained plugin with its own NPU ops "
           "(thousands of commits since 2025), while ROCm is supported in the main tree",
           "kernel-rewrite, library-replace (Ascend) against kernel-translate (ROCm)"),
)


def assumptions(model: EffortModel) -> list[str]:
    """The assumptions behind every estimate, with the model's own values."""
    def span(kind: str) -> str:
        low, high = model.costs[kind]
        return f"{low:g}–{high:g} h"
    rename_low, rename_high = (round(v * 60) for v in model.costs["rename"])
    return [
        "Effort is engineer-hours of porting work to a first correct build on the target; performance tuning "
        "beyond that and hardware access are not counted.",
        "A finding native on the target, handled by the project's own dispatch code, or rewritten by "
        "`lockin-lint check --fix` costs nothing.",
        "Code the project's own build compiles for CUDA only while it also builds for the target (a CUDA-only "
        "feature the target's build leaves out) costs nothing there; the report prices it apart, as if it were "
        "to be ported.",
        f"A mechanical rename costs {rename_low}–{rename_high} minutes a site; a device string, environment "
        f"variable, include or build line {span('edit')}.",
        f"An API with an equivalent is adapted once ({span('adapt')}); one with none is re-implemented once "
        f"({span('reimplement')}), one nobody knows yet looked into once ({span('investigate')}); every "
        "further call is an edit.",
        f"A custom kernel is one unit: translated and reviewed ({span('kernel-translate')} plus "
        f"{span('kernel-translate-line')} a line) where a translator covers it, rewritten by hand "
        f"({span('kernel-rewrite')} plus {span('kernel-rewrite-line')} a line) where not; its intrinsics, "
        "PTX and warp-size assumptions add lines to it.",
        f"A library is one unit: replaced ({span('library-replace')}) or swapped for the target's counterpart "
        f"({span('library-swap')}) once, plus each file using it ({span('library-family-replace')} or "
        f"{span('library-family-swap')}).",
        f"The 'good' band needs a score of at least 80 and at most {model.good_max_hours:g} h of effort "
        "(high estimate).",
        "Tests and vendored code are estimated apart; the headline is product code.",
    ]
