"""NCCL's types, enumerators and macros come from NVIDIA's own header, with RCCL's for rocm."""

from __future__ import annotations

from pathlib import Path

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

from .conftest import load_script

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
HEADERS = load_script(SCRIPTS / "vendor_headers.py")
SPELLING = r"nccl[A-Z]\w*|NCCL_[A-Z0-9_]+"


def test_declared_names_skip_the_guard_struct_tags_comments_and_strings() -> None:
    text = ('#ifndef NCCL_H_\n#define NCCL_H_\n#define NCCL_SUFFIX "ncclNotAName"\n'
            "typedef struct ncclComm* ncclComm_t;\n/* ncclInComment */ // NCCL_IN_COMMENT\n"
            "typedef enum { ncclSum = 0, ncclProd = 1 } ncclRedOp_t;\nncclResult_t ncclSend(void*);\n#endif\n")
    assert HEADERS.declared_names(text, SPELLING) == [
        "NCCL_SUFFIX", "ncclComm_t", "ncclSum", "ncclProd", "ncclRedOp_t", "ncclResult_t", "ncclSend"]


def test_nccl_header_names_are_known_with_rccls_rocm_status(ruleset: RuleSet) -> None:
    source = (b"#include <nccl.h>\nvoid f(ncclComm_t comm, ncclWindow_t w) {\n  ncclUniqueId id;\n"
              b"  ncclDataType_t t = ncclBfloat16;\n}\n")
    found = {f.symbol: f for f in check_bytes("comm.cpp", source, ruleset).findings}
    assert {found[name].rule_id for name in ("ncclComm_t", "ncclUniqueId", "ncclDataType_t")} == {"LC4102"}
    assert found["ncclUniqueId"].targets["rocm"].status == "native"  # RCCL's nccl.h spells it too
    assert found["ncclWindow_t"].targets["rocm"].status == "unknown"  # newer than the RCCL header
    assert found["ncclComm_t"].targets["mps"].status == "missing"  # the NCCL family's facts
