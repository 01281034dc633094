"""Tool-call parsing, safe arithmetic and SQuAD scoring."""

import pytest

from envs.search.scoring import exact_match, normalize, token_f1
from envs.search.tools import CalculationError, calculate, parse_call


@pytest.mark.parametrize(
    ("expression", "value"),
    [("1 + 2 * 3", "7"), ("(1 + 2) * 3", "9"), ("2 ** 10", "1024"), ("7 // 2", "3"), ("7 % 4", "3"),
     ("1 / 4", "0.25"), ("-(3 - 10)", "7"), ("1990 - 1874", "116"), ("10 / 4 * 2", "5"),
     ("2 / 3", "0.6666666667")],
)  # fmt: skip
def test_calculate_follows_arithmetic_precedence(expression, value):
    assert calculate(expression) == value


@pytest.mark.parametrize(
    "expression",
    ["__import__('os').system('true')", "open('x')", "(1).real", "x + 1", "[1, 2]", "lambda: 1",
     "1 if 1 else 2", "True + 1", "'a' * 3", "1 / 0", "2 ** 1000", "10 ** 60 * 10 ** 60", "(-8) ** 0.5",
     "1 +", "9" * 300],
)  # fmt: skip
def test_calculate_refuses_everything_but_bounded_arithmetic(expression):
    """Names, calls, attributes, containers, strings and booleans are refused by the syntax-tree
    whitelist; division by zero, complex or out-of-range results and over-long input are refused too."""
    with pytest.raises(CalculationError):
        calculate(expression)


def test_parse_call_reads_tool_and_argument_and_rejects_the_rest():
    assert parse_call("search[The Silent Harbor]") == ("search", "The Silent Harbor")
    assert parse_call("  answer[ 1874 ] ") == ("answer", "1874")
    assert parse_call("calculate[(1 + 2) * 3]") == ("calculate", "(1 + 2) * 3")
    for bad in ("search The Silent Harbor", "find[x]", "search[x", "", "Answer[x]"):
        assert parse_call(bad) is None


def test_squad_normalisation_exact_match_and_token_f1_by_hand():
    """ "The Silent  Harbor!" normalises to "silent harbor"; F1 of "Alric Vesh Morn" against "Alric Vesh" is
    2 * (2/3) * 1 / (2/3 + 1) = 0.8; the best of several gold answers counts."""
    assert normalize("The Silent  Harbor!") == "silent harbor"
    assert exact_match("silent harbor", ("The Silent Harbor",)) == 1.0
    assert exact_match("Silent", ("The Silent Harbor",)) == 0.0
    assert token_f1("Alric Vesh Morn", ("Alric Vesh",)) == pytest.approx(0.8)
    assert token_f1("Old Vesh", ("Alric Vesh", "Old Vesh")) == 1.0
    assert token_f1("nothing", ("Alric Vesh",)) == 0.0
