"""The rules for a debtor's details: postcodes and company numbers as people type them,
the checks an account's details must pass, and when two accounts are likely to be
the same debtor (and why)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.domain.debtor_details import (
    SAME_COMPANY_NUMBER,
    SAME_EMAIL,
    SAME_FINANCE_CUSTOMER_ID,
    SAME_MOBILE,
    SAME_NAME_AND_POSTCODE,
    SAME_PHONE,
    CompanyNumberError,
    DebtorDetails,
    details_problems,
    duplicate_reasons,
    match_keys,
    normalise_company_number,
    normalise_postcode,
    organisation_name_key,
    tidy,
)

# --- postcodes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, written",
    [
        # Every outward-code shape Royal Mail uses: A9, A99, AA9, AA99, A9A, AA9A.
        ("M1 1AE", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("W1A 0AX", "W1A 0AX"),
        ("EC1A 1BB", "EC1A 1BB"),
        # As people type them: lower case, no space, extra spaces, a tab.
        ("sw1a1aa", "SW1A 1AA"),
        ("  sw1a   1aa ", "SW1A 1AA"),
        ("SW1A\t1AA", "SW1A 1AA"),
        ("gir 0aa", "GIR 0AA"),
    ],
)
def test_a_postcode_is_written_in_capitals_with_one_space_before_the_last_three(typed, written):
    assert normalise_postcode(typed) == written


@pytest.mark.parametrize(
    "typed",
    [
        "",
        " ",
        None,
        "SW1A",  # outward code only
        "SW1A 1AAA",
        "1AA SW1",
        "SW1A-1AA",  # other punctuation is not quietly dropped
        "S.W.1A 1AA",
        "SW1A 1A1",
        "ſW1A 1AA",  # a long s upper-cases to S: not a postcode anyone wrote
        "ＳＷ１Ａ １ＡＡ",  # full-width letters and digits
        "SW١A 1AA",  # an Arabic-Indic digit
        "SW1A\x001AA",
        "AB1 2CD" * 100,
    ],
)
def test_anything_not_shaped_like_a_postcode_is_not_one(typed):
    assert normalise_postcode(typed) is None


# --- company numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, number",
    [
        ("01234567", "01234567"),
        ("1234567", "01234567"),  # the leading zero left out
        ("123", "00000123"),
        ("SC123456", "SC123456"),
        ("sc123456", "SC123456"),
        ("SC 123 456", "SC123456"),
        ("NI12345", "NI012345"),
        ("oc301234", "OC301234"),
        ("10000000", "10000000"),
    ],
)
def test_a_company_number_is_eight_characters_as_companies_house_writes_it(typed, number):
    assert normalise_company_number(typed) == number


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "123456789",  # nine digits
        "SC1234567",
        "S1234567",  # one letter
        "SCO12345",  # a letter O for a zero
        "12-345-678",
        "00000000",
        "SC000000",
        "١٢٣٤٥٦٧٨",  # Arabic-Indic digits are digits to str.isdigit()
        "１２３４５６７８",
        "Smith Ltd",
    ],
)
def test_anything_else_is_not_a_company_number(typed):
    with pytest.raises(CompanyNumberError, match="8 characters"):
        normalise_company_number(typed)


# --- the details' checks ----------------------------------------------------------------

PERSON = DebtorDetails(
    kind="person",
    forename="Linda",
    surname="Snell",
    line1="1 The Green",
    town="Ambridge",
    postcode="BC1 2XY",
)
COMPANY = DebtorDetails(
    kind="organisation",
    organisation_name="Snell Holdings Ltd",
    company_number="1234567",
    line1="Unit 4",
    town="Hollerton",
    postcode="ho14ab",
)


def test_details_are_tidied_and_the_other_kinds_fields_dropped():
    tidied = tidy(replace(COMPANY, surname="Snell", organisation_name="  Snell   Holdings Ltd "))

    assert tidied.organisation_name == "Snell Holdings Ltd"
    assert tidied.surname is None
    assert (tidied.company_number, tidied.postcode) == ("01234567", "HO1 4AB")
    assert tidy(replace(PERSON, company_number="01234567")).company_number is None
    assert tidy(replace(PERSON, line2="   ")).line2 is None


def test_complete_details_have_no_problems():
    assert details_problems(tidy(PERSON)) == {}
    assert details_problems(tidy(COMPANY)) == {}


@pytest.mark.parametrize(
    "details, field, message",
    [
        (replace(PERSON, kind="other"), "kind", "Select whether the debtor is a person or an"),
        (replace(PERSON, surname=None), "surname", "Enter the debtor's last name"),
        (replace(COMPANY, organisation_name=""), "organisation_name", "Enter the organisation"),
        (replace(PERSON, line1=None), "line1", "Enter the first line of the address"),
        (replace(PERSON, town=" "), "town", "Enter the town or city"),
        (replace(PERSON, postcode=None), "postcode", "Enter the postcode"),
        (replace(PERSON, postcode="BC1 2X"), "postcode", "Enter a real postcode"),
        (replace(PERSON, surname="S" * 101), "surname", "Last name must be 100 characters"),
        (replace(COMPANY, company_number="SC1234567"), "company_number", "Enter a company"),
        (replace(PERSON, email="linda"), "email", "Enter an email address in the correct"),
        (replace(PERSON, finance_customer_id="C\x07"), "finance_customer_id", "The finance"),
        (replace(PERSON, preferred_channel="pigeon"), "preferred_channel", "Select how"),
    ],
)
def test_each_problem_is_on_its_own_field(details, field, message):
    problems = details_problems(tidy(details))

    assert list(problems) == [field]
    assert problems[field].startswith(message)


# --- likely duplicates ------------------------------------------------------------------


def keys(**given):
    return match_keys(**({"kind": "person"} | given))


NEW = keys(
    forename="Linda",
    surname="Snell",
    postcodes=["BC1 2XY"],
    email="Linda@Example.com",
    mobile_phone="07700 900111",
    other_phone="01632 960001",
    finance_customer_id="CUST-1",
)


@pytest.mark.parametrize(
    "existing, reasons",
    [
        (keys(forename="linda", surname="SNELL", postcodes=["bc12xy"]), (SAME_NAME_AND_POSTCODE,)),
        (keys(forename="L.", surname="Snell", postcodes=["BC1 2XY"]), (SAME_NAME_AND_POSTCODE,)),
        (keys(forename=None, surname="Snell", postcodes=["BC1 2XY"]), (SAME_NAME_AND_POSTCODE,)),
        (keys(forename="Robert", surname="Snell", postcodes=["BC1 2XY"]), ()),
        (keys(forename="Linda", surname="Snell", postcodes=["BC1 3XY"]), ()),
        (keys(forename="Linda", surname="Snelling", postcodes=["BC1 2XY"]), ()),
        (keys(surname="Grundy", email="linda@example.COM"), (SAME_EMAIL,)),
        (keys(surname="Grundy", mobile_phone="07700900111"), (SAME_MOBILE,)),
        (keys(surname="Grundy", other_phone="07700 900 111"), (SAME_MOBILE,)),
        (keys(surname="Grundy", other_phone="01632960001"), (SAME_PHONE,)),
        (keys(surname="Grundy", finance_customer_id="CUST-1"), (SAME_FINANCE_CUSTOMER_ID,)),
        (keys(surname="Grundy", finance_customer_id="cust-1"), ()),  # the finance system's own
        (
            keys(
                forename="Linda",
                surname="Snell",
                postcodes=["ZZ1 1ZZ", "BC1 2XY"],  # lived there before
                email="linda@example.com",
                mobile_phone="07700 900111",
            ),
            (SAME_NAME_AND_POSTCODE, SAME_EMAIL, SAME_MOBILE),
        ),
        (keys(surname="Grundy"), ()),
    ],
)
def test_why_an_existing_person_is_likely_the_same_debtor(existing, reasons):
    assert duplicate_reasons(NEW, existing) == reasons


def test_blank_details_never_match_blank_details():
    assert duplicate_reasons(keys(surname="A"), keys(surname="B")) == ()
    assert duplicate_reasons(keys(kind="organisation"), keys(kind="organisation")) == ()


COMPANY_KEYS = match_keys(
    kind="organisation",
    organisation_name="The Snell & Sons Company Limited",
    postcodes=["HO1 4AB"],
    company_number="01234567",
)


@pytest.mark.parametrize(
    "existing, reasons",
    [
        (
            match_keys(
                kind="organisation",
                organisation_name="Snell and Sons Co. Ltd",
                postcodes=["HO14AB"],
                company_number="01234567",
            ),
            (SAME_COMPANY_NUMBER, SAME_NAME_AND_POSTCODE),
        ),
        (
            match_keys(
                kind="organisation", organisation_name="Other Name", company_number="01234567"
            ),
            (SAME_COMPANY_NUMBER,),
        ),
        (
            match_keys(
                kind="organisation", organisation_name="Snell & Sons Co Ltd", postcodes=["ZZ1 1ZZ"]
            ),
            (),
        ),
        # A person of the organisation's name at its postcode is not the organisation.
        (match_keys(kind="person", surname="Snell", postcodes=["HO1 4AB"]), ()),
    ],
)
def test_why_an_existing_organisation_is_likely_the_same_debtor(existing, reasons):
    assert duplicate_reasons(COMPANY_KEYS, existing) == reasons


def test_organisation_names_compare_without_the_differences_that_do_not_matter():
    assert organisation_name_key("The Snell & Sons Company Limited") == "snell and sons co ltd"
    assert organisation_name_key("SNELL AND SONS CO. LTD.") == "snell and sons co ltd"
    assert organisation_name_key("Snell Public Limited Company") == "snell plc"
    assert organisation_name_key("   ") is None
