"""Direct Debit Instruction references: the rules Bacs sets, and the ones we make."""

import pytest

from shared.domain.bacs import references


@pytest.mark.parametrize(
    "reference, problem",
    [
        ("A0001", "6 to 18 characters"),
        ("A" * 19, "6 to 18 characters"),
        ("a00001234-01", "capital letters"),
        ("A0000123£", "capital letters"),
        ("-A00001234", "start with a letter or a digit"),
        ("AB-CD-E", "at least 6 letters or digits"),
        ("111111", "one character repeated"),
        ("DDIC123456", "must not start with DDIC"),
    ],
)
def test_a_reference_breaking_a_rule_says_which(reference, problem):
    found = references.problems(reference)
    assert any(problem in p for p in found), found
    assert not references.is_valid(reference)


@pytest.mark.parametrize("reference", ["A00001234-01", "123456", "ABC DEF/1.2&3", "Z" * 17 + "1"])
def test_references_within_the_rules_pass(reference):
    assert references.problems(reference) == []


def test_a_mandate_reference_is_the_account_reference_and_a_sequence():
    assert references.mandate_reference("a00001234", 1) == "A00001234-01"
    assert references.mandate_reference("A00001234", 12) == "A00001234-12"
    with pytest.raises(ValueError):
        references.mandate_reference("A00001234", 100)
    with pytest.raises(ValueError, match="must not start with DDIC"):
        references.mandate_reference("DDIC1", 1)
