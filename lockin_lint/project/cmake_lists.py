"""CMake files read as a list of commands, never run.

`build_dispatch` needs to know which sources a project's CMake builds under which conditions. CMake's
language is small at the lexical level: a file is a sequence of ``name(arguments)`` commands, with
``#`` and ``#[[ ]]`` comments, quoted ``"..."``, bracket ``[[...]]`` and unquoted arguments. This module
turns the bytes into `Command` records (lower-cased name, arguments, line); nothing is evaluated, no
program is started, and text that does not parse ends the list where it stops (a truncated or
malformed file gives the commands before the damage, which is all a best-effort model can use).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Arg:
    """One argument as written: ``quoted`` arguments are never split on ``;`` or read as keywords."""

    text: str
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # lower-cased: CMake command names are case-insensitive
    args: tuple[Arg, ...]
    line: int


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = re.compile(r"[ \t\r\n]+")
_BRACKET_OPEN = re.compile(r"\[(=*)\[")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
#: An unquoted argument: no whitespace, parenthesis, quote or ``#`` unless escaped. ``${X}`` needs no
#: rule of its own (its characters are all allowed), and a rule scanning ahead for its ``}`` would make
#: ``${${${...`` quadratic.
_UNQUOTED = re.compile(r'(?:[^\s()"#\\]|\\.)+')
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", ";": "\\;"}
#: Nesting of parentheses inside one command's arguments (``if((A AND B) OR C)``) beyond which the
#: command is taken as malformed: no real CMake file comes close.
MAX_PAREN_DEPTH = 64


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text.replace("\\\n", ""))


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def advance(self, end: int) -> None:
        self.line += self.text.count("\n", self.pos, end)
        self.pos = end

    def skip_space_and_comments(self) -> None:
        while self.pos < len(self.text):
            space = _SPACE.match(self.text, self.pos)
            if space:
                self.advance(space.end())
                continue
            if self.text.startswith("#", self.pos):
                bracket = _BRACKET_OPEN.match(self.text, self.pos + 1)
                if bracket:
                    close = self.text.find("]" + bracket.group(1) + "]", bracket.end())
                    self.advance(len(self.text) if close < 0 else close + len(bracket.group(1)) + 2)
                else:
                    newline = self.text.find("\n", self.pos)
                    self.advance(len(self.text) if newline < 0 else newline)
                continue
            return

    def argument(self) -> Arg | None:
        """The next argument, or None at a closing parenthesis or on text that is not an argument."""
        text, start = self.text, self.pos
        if text.startswith('"', start):
            match = _QUOTED.match(text, start)
            if match is None:
                return None
            self.advance(match.end())
            return Arg(_unescape(match.group(1)), quoted=True)
        bracket = _BRACKET_OPEN.match(text, start)
        if bracket:
            close = text.find("]" + bracket.group(1) + "]", bracket.end())
            if close < 0:
                return None
            self.advance(close + len(bracket.group(1)) + 2)
            return Arg(text[bracket.end():close].removeprefix("\n"), quoted=True)
        match = _UNQUOTED.match(text, start)
        if match is None or match.end() == start:
            return None
        self.advance(match.end())
        return Arg(_unescape(match.group(0)))


def parse_commands(data: bytes) -> list[Command]:
    """The commands of one CMake file, in order (see the module docstring for what is kept)."""
    scanner = _Scanner(data.decode("utf-8", "replace"))
    commands: list[Command] = []
    while True:
        scanner.skip_space_and_comments()
        name = _NAME.match(scanner.text, scanner.pos)
        if name is None:
            return commands
        line = scanner.line
        scanner.advance(name.end())
        scanner.skip_space_and_comments()
        if not scanner.text.startswith("(", scanner.pos):
            return commands
        scanner.advance(scanner.pos + 1)
        args: list[Arg] = []
        depth = 0
        while True:
            scanner.skip_space_and_comments()
            if scanner.pos >= len(scanner.text):
                return commands
            char = scanner.text[scanner.pos]
            if char in "()":
                scanner.advance(scanner.pos + 1)
                if char == ")" and depth == 0:
                    break
                depth += 1 if char == "(" else -1
                if depth > MAX_PAREN_DEPTH:
                    return commands
                args.append(Arg(char))
                continue
            arg = scanner.argument()
            if arg is None:
                return commands
            args.append(arg)
        commands.append(Command(name.group(0).lower(), tuple(args), line))
