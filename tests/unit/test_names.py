"""How a debtor's name reads on pages and lists (shared/domain/names.py)."""

from shared.domain.names import display_name


def test_a_person_is_named_by_title_forename_and_surname():
    assert display_name("person", "Mrs", "Linda", "Rogers", None) == "Mrs Linda Rogers"


def test_a_person_with_parts_of_the_name_missing_has_no_stray_spaces():
    assert display_name("person", None, "Linda", "Rogers", None) == "Linda Rogers"
    assert display_name("person", "", None, "Rogers", "Ignored Ltd") == "Rogers"


def test_an_organisation_is_named_by_its_organisation_name_only():
    assert display_name("organisation", "Mr", "Ian", "Hart", "Hart Haulage Ltd") == (
        "Hart Haulage Ltd"
    )


def test_an_organisation_without_a_name_reads_as_blank_not_none():
    assert display_name("organisation", None, None, None, None) == ""
