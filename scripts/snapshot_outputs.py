"""Snapshot the JSON of `check` and `report` on the fixtures and on a real tree, and compare snapshots.

Why: a refactor that claims "no behaviour change" must show it. Take a snapshot before, one after,
and compare them byte for byte:

    python scripts/snapshot_outputs.py snap /tmp/before --torch-dir /path/to/site-packages/torch
    ... refactor ...
    python scripts/snapshot_outputs.py snap /tmp/after --torch-dir /path/to/site-packages/torch
    python scripts/snapshot_outputs.py compare /tmp/before /tmp/after

The CLI runs in a subprocess of the current interpreter (which must have lockin-lint installed) from
the repository root, so relative paths in the output are the same in both snapshots.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def trees(torch_dir: Path | None) -> dict[str, Path]:
    """Every fixtures folder, the fixtures as one run, and the torch package when given."""
    found = {f"fixtures-{p.name}": p for p in sorted((ROOT / "fixtures").iterdir()) if p.is_dir()}
    found["fixtures"] = ROOT / "fixtures"
    if torch_dir is not None:
        found["torch"] = torch_dir
    return found


def run(args: list[str]) -> bytes:
    cmd = [sys.executable, "-m", "lockin_lint", *args]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return done.stdout


def snap(out: Path, torch_dir: Path | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, tree in trees(torch_dir).items():
        common = [str(tree), "--format", "json", "--no-cache"]
        (out / f"{name}.check.json").write_bytes(run(["check", *common, "--no-respect-gitignore"]))
        (out / f"{name}.report.json").write_bytes(run(["report", str(tree), "--format", "json"]))
        if name != "torch":  # the other formats on the small trees: they share the same model
            for fmt in ("text", "sarif", "github"):
                (out / f"{name}.check.{fmt}").write_bytes(run(["check", *common[:1], "--format", fmt, "--no-cache"]))
            for fmt in ("text", "markdown", "html"):
                (out / f"{name}.report.{fmt}").write_bytes(run(["report", str(tree), "--format", fmt]))
        print(f"{name}: done", file=sys.stderr)


def compare(before: Path, after: Path) -> int:
    names = sorted({p.name for p in before.iterdir()} | {p.name for p in after.iterdir()})
    differing = [n for n in names if not (before / n).is_file() or not (after / n).is_file()
                 or (before / n).read_bytes() != (after / n).read_bytes()]
    for name in names:
        print(f"{'DIFFERS' if name in differing else 'same   '} {name}")
    return 1 if differing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("snap", help="write check/report JSON of every tree into DIR")
    s.add_argument("dir", type=Path)
    s.add_argument("--torch-dir", type=Path, help="an installed torch package to include")
    c = sub.add_parser("compare", help="byte-compare two snapshot directories")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "snap":
        snap(args.dir, args.torch_dir)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    raise SystemExit(main())
