"""An unchanged re-run of ``check`` or ``report`` replays what the last identical run printed.

Why: a warm run with every file cached still rebuilt the findings, scored them and rendered them
(1 s of CPU for vLLM's 9,000 findings), where Ruff answers an unchanged tree in a fraction of that.
The output of a command is a pure function of its inputs, so it is kept, keyed by all of them:

- the command key: the tool's version and its own files (size and mtime of each), Python's
  version, the working directory, every argument, the configuration as loaded, the rules' fingerprint,
  the merged settings, the baseline file's content, ``.gitmodules`` (the report reads it), and whether
  stdout is a terminal;
- the tree: every file of the run with its content hash (`api.unchanged_tree`: by stat from the result
  cache's index, so nothing is read), discovery's errors, and every file outside the run that the
  whole-project passes read (checked again by content).

A stored output whose keys all match is written out as it was (stdout, stderr, exit code); anything
else runs the command, which stores what it printed. Runs that write files (``--fix``, ``--output``,
baselines), read stdin, merge reports, or pass ``--no-cache`` are never replayed. Entries are signed
pickles in the cache directory (`kb.cache.write_signed`), one per command key, so they never pile up.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
from pathlib import Path
from typing import Any, Callable, TextIO, cast

from . import __version__
from .kb.cache import cache_dir, read_signed, write_signed
from .kb.ruleset import RuleSet
from .limits import LimitError, read_regular
from .model import Settings
from .project.config import Config

_FORMAT = 1
#: Arguments that make a run write files or read something no key covers: such runs are never replayed.
_NEVER = ("no_cache", "fix", "diff", "fix_to", "unsafe_fixes", "write_baseline", "prune_baseline", "output",
          "output_sarif", "merge", "stdin_filename")

Command = Callable[[TextIO, TextIO], int]
Observed = dict[str, Any]


def replayable(args: argparse.Namespace) -> bool:
    return not any(getattr(args, name, None) for name in _NEVER) and "-" not in args.paths


def _code_fingerprint() -> list[tuple[str, int, int]]:
    package = Path(__file__).parent
    found = []
    for folder, folders, names in os.walk(package):
        folders[:] = [f for f in folders if f != "__pycache__"]
        for name in names:
            try:
                st = os.stat(os.path.join(folder, name))
            except OSError:  # removed while we looked (an upgrade in progress): still part of the key
                found.append((os.path.join(folder, name), -1, -1))
                continue
            found.append((os.path.join(folder, name), st.st_size, st.st_mtime_ns))
    return sorted(found)


def _content(path: Path | None) -> str:
    if path is None:
        return ""
    try:  # a regular file under the size cap only: a FIFO named as the baseline must not block here
        return hashlib.sha256(read_regular(str(path))).hexdigest()
    except (OSError, ValueError, LimitError) as exc:  # the command itself reports such a path
        return f"unreadable {exc!r}"


def command_key(args: argparse.Namespace, config: Config, ruleset: RuleSet, settings: Settings, out: TextIO) -> str:
    baseline = Path(args.baseline) if getattr(args, "baseline", None) else config.baseline
    modules = [_content(Path(p) / ".gitmodules") for p in args.paths]
    parts = (_FORMAT, __version__, sys.version, _code_fingerprint(), os.getcwd(), sorted(vars(args).items()),
             repr(config), ruleset.fingerprint, repr(settings), _content(baseline), modules, out.isatty())
    return hashlib.sha256(repr(parts).encode()).hexdigest()


class _Tee(io.TextIOBase):
    """A stream that passes writes on and keeps a copy; progress goes to the real stream, uncopied."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.progress_stream = stream
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()


def replay_or_run(args: argparse.Namespace, config: Config, ruleset: RuleSet, settings: Settings,
                  out: TextIO, err: TextIO, command: Callable[[TextIO, TextIO, Observed], int],
                  tree: Callable[[], tuple[str, Callable[[dict[str, str]], bool]] | None]) -> int:
    """Run ``command(out, err, observed)``, or replay its stored output when no input changed.

    ``tree()`` gives the current tree key and a test of the passes' outside inputs (None when some
    file is not vouched for by the cache); the command fills ``observed`` with the tree key and those
    inputs of the run it made (or leaves it empty when it cannot vouch for every file)."""
    if not replayable(args) or not ruleset.fingerprint:
        return command(out, err, {})
    key = command_key(args, config, ruleset, settings, out)
    path = cache_dir() / "outputs" / f"{key[:32]}.memo"
    stored = read_signed(path)
    if isinstance(stored, dict) and stored.get("format") == _FORMAT and stored.get("key") == key:
        current = tree()
        if current is not None and current[0] == stored.get("tree") and current[1](stored.get("inputs") or {}):
            out.write(stored["out"])
            err.write(stored["err"])
            return int(stored["code"])
    tee_out, tee_err = _Tee(out), _Tee(err)
    observed: Observed = {}
    code = command(cast(TextIO, tee_out), cast(TextIO, tee_err), observed)
    if observed.get("tree"):
        write_signed(path, {"format": _FORMAT, "key": key, "tree": observed["tree"],
                            "inputs": observed.get("inputs", {}), "out": "".join(tee_out.parts),
                            "err": "".join(tee_err.parts), "code": code})
    return code
