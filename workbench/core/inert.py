"""Provides `visible`: attacker-controlled log text made inert for display.

Control characters (escape sequences, carriage returns, bells), bidirectional overrides and
zero-width characters are shown as visible escapes such as `\\x1b` or `\\u200b`, so nothing in a log
can move the cursor, set the clipboard or hide text. Markup is a separate matter: callers put the
result into `rich.text.Text` (or widgets with markup off), never into a markup string.

`visible` is the one rendering of untrusted text for terminals: every CLI table, error line, message and
CSV written to a terminal goes through it. JSON (to files, pipes and terminals alike) goes through
`inert_json`, which keeps the exact data.
"""

import json
import re

_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, keep_newlines: bool = False) -> str:
    """`text` with every control, format and zero-width character replaced by a visible escape."""
    if keep_newlines:
        return "\n".join(_INVISIBLE.sub(_escape, line).replace("\t", "\\t") for line in text.split("\n"))
    escaped = _INVISIBLE.sub(_escape, text.replace("\n", "\\n").replace("\t", "\\t"))
    if escaped.isprintable():
        return escaped
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in escaped)


#: Characters that JSON allows raw inside strings but a terminal acts on or hides: DEL, C1, zero-width,
#: line separators, bidi embeddings, overrides and isolates, the BOM; and lone surrogates (a file name
#: that is not UTF-8), which cannot be written as UTF-8 at all.
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ud800-\udfff]")


def inert_json(text: str) -> str:
    """JSON text with every character a terminal would act on or hide written as a `\\uXXXX` escape.

    The value is unchanged (these characters only occur inside JSON strings, where the escape means the
    same), so a file or pipe keeps the exact data while `cat`-ing it shows nothing hidden or executed.
    """
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def dumps(value: object, **options) -> str:
    """`json.dumps` (UTF-8 text, not ASCII escapes) made inert by `inert_json`."""
    return inert_json(json.dumps(value, ensure_ascii=False, **options))
