"""A modified property's value is unwrapped from its JSON-in-string array by slicing: the same text as the rule
written as a regex, `^\\s*\\[\\s*"?(.*?)"?\\s*\\]\\s*$` (the scalar inside), or the value as it is when it is no array."""

import re

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from hunts.predicates import _unwrap_json

RULE = re.compile(r'^\s*\[\s*"?(.*?)"?\s*\]\s*$', re.DOTALL)
#: Brackets, quotes, the whitespace Microsoft's values carry (and a no-break space), and some text.
PIECES = st.sampled_from(["[", "]", '"', " ", "\r", "\n", "\t", "\u00a0", "a", "1", "{", "}", "é", "+1 555 0100"])


def by_rule(value: str) -> str:
    found = RULE.match(value)
    return found.group(1) if found else value


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(PIECES, max_size=10).map("".join), min_size=1, max_size=50))
def test_unwrapping_by_slices_is_the_rule(values):
    unwrapped = pl.DataFrame({"v": values}).select(_unwrap_json(pl.col("v")))["v"].to_list()
    assert unwrapped == [by_rule(value) for value in values]


def test_microsofts_shapes():
    values = ['[\r\n  "+1 2025550186"\r\n]', "[\r\n  true\r\n]", "[]", '  [ "a" , "b" ]  ', "plain", '[""]']
    unwrapped = pl.DataFrame({"v": values}).select(_unwrap_json(pl.col("v")))["v"].to_list()
    assert unwrapped == ["+1 2025550186", "true", "", 'a" , "b', "plain", ""]
