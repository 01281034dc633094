"""Names that end up in results, files and pages: agent labels, package names and versions, scenario and task
names. Each is checked once, where it enters, so that nothing downstream (SQLite, the disk, plots, the HTML
page, a terminal) meets a name that can hurt it.

A name is 1-100 characters, each an ASCII letter, a digit, a space or one of ``_ - . / @ + : = , ( )``; it
starts with a letter or digit, does not end with a space, and has no empty, ``.`` or ``..`` part between
``/``. So: no control characters; no bidi controls (a right-to-left override shows ``bot<U+202E>gnp.exe``
as ``botexe.png``); no quotes; no ``$`` (mathtext in plots); no ``<`` or ``&`` (markup); no path tricks.
Every shipped scenario, task and built-in agent name fits (``werewolf/scripted``, ``qd/distilled@goal``,
``warehouse + stores``, ``2 hops, text``, ``arena/IoTScheduling-v0 (max_episode_steps=200)``).

On disk a labelled thing lives under :func:`label_directory_name`, one path component per label.
"""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata

MAX_LENGTH = 100
PUNCTUATION = " _-./@+:=,()"
RULES = (
    f"a name is 1-{MAX_LENGTH} ASCII letters, digits, spaces and any of _ - . / @ + : = , ( ), starting with "
    "a letter or digit, not ending with a space, with no empty, '.' or '..' part between '/'"
)
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")

_ALNUM = frozenset(string.ascii_letters + string.digits)
_ALLOWED = _ALNUM | frozenset(PUNCTUATION)
_KEPT_ON_DISK = _ALNUM | frozenset("_-.@+=")  # everything else is written as %XX ('%' is never in a name)
_MAX_DIRECTORY_NAME = 120  # well under the 255 bytes most filesystems allow for one component
_SHOWN = 120  # characters of a refused value's repr that an error message shows


def label_problem(value: object) -> str | None:
    """What is wrong with ``value`` as a name (a short phrase), or None if it is a valid name."""
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not a string"
    if not 1 <= len(value) <= MAX_LENGTH:
        return f"has {len(value)} characters"
    for char in value:
        if char not in _ALLOWED:
            return f"contains {_character(char)}"
    if value[0] not in _ALNUM:
        return f"starts with {value[0]!r}"
    if value.endswith(" "):
        return "ends with a space"
    for part in value.split("/"):
        if part in ("", ".", ".."):
            return f"has {'an empty' if not part else repr(part)} part between '/'"
    return None


def validate_label(value: str, field: str) -> str:
    """``value`` if it is a valid name (see the module docstring), else ValueError naming ``field``, quoting
    ``value`` and saying what a name may be; the message is one line."""
    problem = label_problem(value)
    if problem is not None:
        raise ValueError(f"{field}={_quoted(value)} {problem}; {RULES}")
    return value


def label_directory_name(label: str) -> str:
    """One safe path component for storing the thing named ``label``, distinct for distinct labels.

    Letters, digits and ``_ - . @ + =`` stay (``lefty@1`` stays ``lefty@1``); every other character becomes
    ``%XX``, its ASCII code in hex (``team/wolf-bot@0.1`` becomes ``team%2Fwolf-bot@0.1``), which is
    reversible as no name contains ``%``. A name whose encoding would be longer than 120 characters becomes
    its encoding's first 100 characters (``%`` turned into ``_``), ``~`` and 16 hex digits of its SHA-256;
    ``~`` appears in no other form, so the two forms never meet. Never ``.``, ``..``, hidden or empty, as a
    name starts with a letter or digit.
    """
    validate_label(label, "label")
    encoded = "".join(c if c in _KEPT_ON_DISK else f"%{ord(c):02X}" for c in label)
    if len(encoded) <= _MAX_DIRECTORY_NAME:
        return encoded
    return f"{encoded[:100].replace('%', '_')}~{hashlib.sha256(label.encode()).hexdigest()[:16]}"


def _character(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if char in BIDI_CONTROLS:
        return f"{code}, a bidi control"
    if unicodedata.category(char).startswith("C"):
        return f"{code}, a control character"
    return f"{char!r} ({code})"


def _quoted(value: object) -> str:
    """``repr(value)``, cut short; repr escapes control, bidi and line-separator characters."""
    shown = repr(value)
    return shown if len(shown) <= _SHOWN else f"{shown[:_SHOWN]}... ({len(shown)} characters quoted)"


def slug(text: str) -> str:
    """``text`` as a part of an agent's or a file's name: each run of characters other than ASCII letters,
    digits, ``.``, ``_`` and ``-`` becomes one ``-`` (``arena/DCMotorSpeed-v0`` becomes
    ``arena-DCMotorSpeed-v0``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")
