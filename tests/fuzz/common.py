"""What the property tests share: the example counter and strategies."""

from __future__ import annotations

from collections import Counter

from hypothesis import strategies as st

# How many examples each property test ran (printed by the fuzz conftest).
EXAMPLES: Counter[str] = Counter()


def count(test: str) -> None:
    """Count one example of a property test."""
    EXAMPLES[test] += 1


# Any JSON value, a few levels deep.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=8,
)

# Nested JSON arrays/objects deeper than anyone should send.
deep_json = st.builds(
    lambda depth, obj: (
        ('{"a":' * depth + "1" + "}" * depth) if obj else ("[" * depth + "]" * depth)
    ),
    st.integers(min_value=90, max_value=120_000),
    st.booleans(),
)

# Text that likes to break URLs, headers and templates.
nasty_text = st.text(
    alphabet=st.sampled_from(
        list("aZ09-_.~/?#[]@!$&'()*+,;=%:{}<>|\\^` \t\r\n\x00\x1b\x7f\u0085\u2028é日")
    ),
    max_size=30,
) | st.text(max_size=30)

# Where a number belongs, what a careless or hostile server writes: integers of
# any size, floats with inf and NaN, digits of every script (Nd, No: '²', '١',
# '１'), long digit runs, and what is no number at all.
_digits = st.characters(categories=["Nd", "No"])
odd_numbers = (
    st.integers()
    | st.integers(min_value=10**300, max_value=10**420)
    | st.integers(min_value=10**300, max_value=10**420).map(lambda n: -n)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.none()
    | st.text(alphabet=_digits, max_size=8)
    | st.from_regex(
        r"\A[ \t]?[+-]?[0-9]{0,450}(\.[0-9]{0,20})?([eE][+-]?[0-9]{1,4})?\Z"
    )
    | st.integers(1, 20_000).map(lambda n: "9" * n)
    | st.sampled_from(["inf", "-inf", "nan", "NaN", "1_000", "0x10", "1e", ".", ""])
    | st.text(max_size=12)
)
