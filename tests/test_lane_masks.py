"""A 32-bit full-lane mask spelled otherwise than ``0xffffffff`` still makes a warp intrinsic need a
change on ROCm (HIP's ``*_sync`` intrinsics take a 64-bit mask); a 64-bit or per-platform mask does not."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet


def _shuffle(ruleset: RuleSet, mask: str, head: str = "", path: str = "k.cu") -> tuple[str, tuple[str, ...]]:
    """The ROCm status and joined names of ``__shfl_xor_sync(<mask>, ...)`` after ``head``."""
    source = f"{head}\n__device__ float f(float x, unsigned m) {{ return __shfl_xor_sync({mask}, x, 1); }}\n"
    found = [f for f in check_bytes(path, source.encode(), ruleset).findings if f.symbol == "__shfl_xor_sync"]
    assert len(found) == 1
    return found[0].targets["rocm"].status, found[0].extra_symbols


@pytest.mark.parametrize("mask", ["uint32_t(-1)", "unsigned(-1)", "(unsigned)-1", "(uint32_t) -1", "~0u", "~0U",
                                  "static_cast<uint32_t>(-1)", "(unsigned int)-1", "0xffffffffu", "0xFFFFFFFFU"])
def test_a_32_bit_full_mask_in_any_spelling_needs_a_change_on_rocm(ruleset: RuleSet, mask: str) -> None:
    assert _shuffle(ruleset, mask) == ("equivalent", (mask,))
    assert _shuffle(ruleset, mask, path="utils.h") == ("equivalent", (mask,))  # a device function in a header


@pytest.mark.parametrize("head", [
    "constexpr unsigned FINAL_MASK = 0xffffffff;",  # apex group_norm_v2
    "namespace moe {\nstatic constexpr unsigned FINAL_MASK = 0xffffffff;\n}",
    "static const uint32_t FINAL_MASK = uint32_t(-1);",
    "#define FINAL_MASK 0xffffffff",
    "#define FINAL_MASK (~0u)  // all lanes",
    "#ifndef K_H\n#define K_H\n#define FINAL_MASK 0xffffffffU\n#endif",  # an include guard is no condition
])
def test_a_name_fixed_to_a_32_bit_full_mask_needs_a_change_on_rocm(ruleset: RuleSet, head: str) -> None:
    assert _shuffle(ruleset, "FINAL_MASK", head) == ("equivalent", ("FINAL_MASK",))


@pytest.mark.parametrize("head", [
    "",  # defined elsewhere: nothing to read
    "constexpr uint64_t FINAL_MASK = 0xffffffff;",  # already a 64-bit mask
    "#define FINAL_MASK 0xffffffffffffffffULL",
    "#define FINAL_MASK 0xffffffffull",
    "unsigned FINAL_MASK = 0xffffffff;",  # a variable that may change
    "constexpr unsigned FINAL_MASK = 0x0000ffff;",  # half the lanes: no full mask
    # vLLM's fused_qknorm_rope_kernel.cu: the ROCm port is done per platform
    "#ifdef USE_ROCM\n#define FINAL_MASK 0xffffffffffffffffULL\n#else\n#define FINAL_MASK 0xffffffff\n#endif",
    "#ifndef USE_ROCM\n#define FINAL_MASK 0xffffffff\n#endif",
    "#if 1\nconstexpr unsigned FINAL_MASK = 0xffffffff;\n#endif",
    "constexpr unsigned FINAL_MASK = 0xffffffff;\nvoid g(unsigned FINAL_MASK);",  # two declarations
])
def test_a_name_not_fixed_to_a_32_bit_full_mask_stays_native(ruleset: RuleSet, head: str) -> None:
    assert _shuffle(ruleset, "FINAL_MASK", head) == ("native", ())


@pytest.mark.parametrize("mask", ["uint64_t(-1)", "~0ull", "-1", "m", "__activemask()", "(unsigned)-2", "~1u"])
def test_other_masks_stay_native(ruleset: RuleSet, mask: str) -> None:
    assert _shuffle(ruleset, mask)[0] == "native"


def test_the_mask_of_a_non_sync_call_is_not_read(ruleset: RuleSet) -> None:
    source = b"__device__ float f(float x) { return __shfl_xor(uint32_t(-1), x); }\n"
    found = check_bytes("k.cu", source, ruleset).findings
    assert all(not f.extra_symbols and f.rule_id != "LC7021" for f in found)
