"""The command line read against the commands' signatures, before Fire sees it.

Fire takes a value option given without its value as the string "True" (and a lone
"-" as its command separator), so ``config set --api-key`` would save "True" as the key.
Its complaints about unknown options come after the command ran and echo the whole
command line, key included. Its help pages show its internals (a ``FIRE_METADATA``
group, quoted annotations) and one-letter flags it makes up, ``-h`` for ``--host``
among them. So argv is read here first, with rules taken from the signatures alone:

- a parameter whose default is a bool is an on/off flag (``--dev``, ``--dev=no``);
  any other parameter is a value option (``--port 4141``, ``--port=4141``);
- ``--small-model`` is the spelling shown; Fire's ``--small_model`` works too;
- a parameter has a one-letter flag only if its annotation says so,
  ``Annotated[bool, Short("v")]``; ``-h`` is always help;
- a value option marked ``Prompted()`` in its annotation may come without its value
  (or with ``-``): the command gets ``"-"`` and asks for the value itself.

Fire then runs with every option in its long ``--name=value`` form, and ``@verbatim``
has it pass the value options on as typed.
"""

from __future__ import annotations

import inspect
import itertools
import re
import textwrap
from collections.abc import Callable, Iterator, Sequence
from typing import TypeAlias, TypeVar

import attrs
from fire import docstrings
from fire.decorators import SetParseFn

HELP = frozenset({"-h", "--help"})
_HELP_ROW = ("-h, --help", "show this help and exit")
_WIDTH = 80
_Command = TypeVar("_Command", bound=Callable[..., None])
# What Fire takes for a flag rather than a value (fire.core._IsFlag), and its separator.
_FLAG_LIKE = re.compile(r"--|-[A-Za-z]")


@attrs.frozen
class Short:
    """The one-letter flag of a parameter, declared in its annotation.

    Example: ``verbose: Annotated[bool, Short("v")] = False`` accepts ``-v``.
    """

    letter: str


@attrs.frozen
class Prompted:
    """A value option that may be given without its value (or as ``-``), declared in its annotation.

    The command then receives ``"-"`` and reads the value itself (a hidden prompt, or
    stdin), so a secret stays out of shell history and ``ps``. Example:
    ``api_key: Annotated[str | None, Prompted()] = None``.
    """


@attrs.frozen(kw_only=True)
class Option:
    """One parameter of a command, as the command line spells it."""

    name: str
    takes_value: bool
    short: str | None
    summary: str
    prompted: bool = False

    @property
    def flag(self) -> str:
        """The spelling shown in help: ``--small-model``."""
        return "--" + self.name.replace("_", "-")

    def spellings(self) -> set[str]:
        """Every spelling accepted for this option."""
        return {self.flag, f"--{self.name}"} | ({f"-{self.short}"} if self.short else set())


@attrs.frozen
class Run:
    """Hand these words to Fire."""

    argv: tuple[str, ...]


@attrs.frozen
class Help:
    """Print this help page."""

    page: str


@attrs.frozen
class Version:
    """Print the version."""


@attrs.frozen
class Refused:
    """Refuse the command line: the reason (never a value) and the command whose help to see."""

    reason: str
    command: str


Reading: TypeAlias = Run | Help | Version | Refused


def read(root: object, argv: Sequence[str], *, name: str) -> Reading:
    """What ``argv`` asks of the command tree under ``root``; ``name`` is the program."""
    words = list(argv[: argv.index("--")] if "--" in argv else argv)
    fire_only = tuple(argv[len(words) :])  # Fire's own flags, after a final "--"
    path: list[str] = []
    target = root
    while not callable(target):  # walk down to the command: `start`, `config set`, ...
        shown, members = " ".join([name, *path]), commands(target)
        if not words or words[0] in HELP:
            return Help(group_page(shown, target, root=not path))
        if words[0] == "--version" and not path:
            return Version()
        if words[0].startswith("-"):
            return Refused(f"unknown option {words[0].split('=', 1)[0]}", shown)
        if words[0] not in members:
            return Refused(f"unknown command {words[0]!r}", shown)
        target = members[words[0]]
        path.append(words.pop(0))
    reading = _read_options(" ".join([name, *path]), target, words)
    return Run((*path, *reading.argv, *fire_only)) if isinstance(reading, Run) else reading


def _read_options(shown: str, command: Callable[..., object], words: list[str]) -> Run | Help | Refused:
    options = {spelling: option for option in command_options(command) for spelling in option.spellings()}
    given: list[str] = []
    pairs = itertools.zip_longest(words, words[1:])  # each word with the next, or None
    for word, following in pairs:
        spelling, equals, value = word.partition("=")
        if word in HELP:
            return Help(command_page(shown, command))
        if not word.startswith("-"):
            return Refused("an unexpected argument (options are written --name VALUE)", shown)
        option = options.get(spelling)
        if option is None:
            return Refused(f"unknown option {spelling}", shown)
        if option.takes_value and not equals:
            missing = following is None or following == "-" or _FLAG_LIKE.match(following)
            if missing and not option.prompted:
                return Refused(f"{word} needs a value (write {word}=VALUE if it starts with '-')", shown)
            value = "-" if missing else str(following)
            if not missing or following == "-":
                next(pairs)
        given.append(f"--{option.name}={value}" if option.takes_value or equals else f"--{option.name}")
    return Run(tuple(given))


def commands(group: object) -> dict[str, object]:
    """The commands and subgroups of a group, in the order its class defines them."""
    return {member: getattr(group, member) for member in vars(type(group)) if not member.startswith("_")}


def command_options(command: Callable[..., object]) -> tuple[Option, ...]:
    """The options of a command: its keyword-only parameters, described by its ``Args:``."""
    # A docstring without an Args: section (a command without options) parses to None.
    args = docstrings.parse(inspect.getdoc(command)).args or ()
    described = {arg.name: str(arg.description or "") for arg in args}
    return tuple(
        Option(
            name=parameter.name,
            takes_value=not isinstance(parameter.default, bool),
            short=_short(parameter.annotation),
            summary=described.get(parameter.name, ""),
            prompted=any(isinstance(mark, Prompted) for mark in getattr(parameter.annotation, "__metadata__", ())),
        )
        for parameter in inspect.signature(command, eval_str=True).parameters.values()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    )


def verbatim(command: _Command) -> _Command:
    """Have Fire pass the text of every value option as typed, never as a Python literal.

    ``SetParseFn(str, ...)`` over the value options of the signature, so ``--api-key 1e5``
    stays "1e5" rather than a float and ``--model a,b`` stays "a,b" rather than a tuple.
    """
    value_options = [option.name for option in command_options(command) if option.takes_value]
    pinned: _Command = SetParseFn(str, *value_options)(command)
    return pinned


def _short(annotation: object) -> str | None:
    # Annotated[bool, Short("v")] keeps Short("v") in __metadata__.
    marks = getattr(annotation, "__metadata__", ())
    return next((mark.letter for mark in marks if isinstance(mark, Short)), None)


def command_page(shown: str, command: Callable[..., object]) -> str:
    """The help page of a command: its docstring, then one line per option."""
    rows = [(_option_label(option), option.summary) for option in command_options(command)]
    return _page(f"{shown} [options]", command, [("options", [*rows, _HELP_ROW])])


def group_page(shown: str, group: object, *, root: bool) -> str:
    """The help page of a group: its docstring, then every command under it."""
    rows = [(" ".join(path), summary) for path, summary in _command_rows(group, [])]
    options = [_HELP_ROW, ("--version", "print the version and exit")] if root else [_HELP_ROW]
    page = _page(f"{shown} COMMAND [options]", group, [("commands", rows), ("options", options)])
    return f"{page}\n\nRun `{shown} COMMAND --help` for the options of a command."


def _command_rows(group: object, path: list[str]) -> Iterator[tuple[list[str], str]]:
    for member, target in commands(group).items():
        if callable(target):
            yield [*path, member], _summary(target)
        else:
            yield from _command_rows(target, [*path, member])


def _option_label(option: Option) -> str:
    # The value is named by the last word, as the README writes them: --endpoint-url URL.
    value = option.name.rsplit("_", 1)[-1].upper()
    label = (
        f"{option.flag} [{value}]"
        if option.prompted
        else f"{option.flag} {value}"
        if option.takes_value
        else option.flag
    )
    return f"-{option.short}, {label}" if option.short else f"    {label}"


def _summary(target: object) -> str:
    return str(docstrings.parse(inspect.getdoc(target)).summary or "")


def _page(usage: str, target: object, sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
    info = docstrings.parse(inspect.getdoc(target))
    parts = [f"usage: {usage}", str(info.summary or ""), str(info.description or "")]
    for title, rows in sections:
        width = max(len(label) for label, _ in rows) + 4
        lines = [_row(label, text, width) for label, text in rows]
        parts.append("\n".join([f"{title}:", *lines]))
    return "\n\n".join(part for part in parts if part)


def _row(label: str, text: str, width: int) -> str:
    # Whole words only: a URL stays in one piece, to be copied.
    wrap = textwrap.TextWrapper(_WIDTH - width, break_long_words=False, break_on_hyphens=False)
    lines = wrap.wrap(text) or [""]
    return "\n".join([f"  {label:<{width - 2}}{lines[0]}".rstrip(), *(" " * width + line for line in lines[1:])])
