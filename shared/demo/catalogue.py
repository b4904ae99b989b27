"""Fixed reference data behind the demo data set: departments, staff, places, wording.

Plain data, no database. Contact details use ranges reserved for fiction or
documentation (Ofcom drama numbers, RFC 2606 domains), so a demo that is
accidentally wired to a real SMS or email provider can never reach a real person.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.models.staff import StaffRole

DEMO_PASSWORD = "demo-password-1"
DEMO_EMAIL_DOMAIN = "demo.example"


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    cost_centre: str
    is_commercial: bool
    contact_email: str
    contact_phone: str


ADULT_SOCIAL_CARE = "ASC"
TRADE_WASTE = "TWASTE"
COMMERCIAL_RENTS = "RENTS"
LICENSING = "LICENSING"
HB_OVERPAYMENTS = "HBOP"
MISCELLANEOUS = "MISC"

DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec(
        ADULT_SOCIAL_CARE,
        "Adult Social Care - care contributions",
        "ASC-4120",
        False,
        "care.finance@borsetshire.example",
        "01632 960101",
    ),
    DepartmentSpec(
        TRADE_WASTE,
        "Trade Waste",
        "ENV-2210",
        True,
        "trade.waste@borsetshire.example",
        "01632 960202",
    ),
    DepartmentSpec(
        COMMERCIAL_RENTS,
        "Commercial Property Rents",
        "EST-3300",
        True,
        "estates@borsetshire.example",
        "01632 960303",
    ),
    # Licence fees are statutory charges, not commercial contracts: no Late Payment Act.
    DepartmentSpec(
        LICENSING, "Licensing", "REG-1450", False, "licensing@borsetshire.example", "01632 960404"
    ),
    DepartmentSpec(
        HB_OVERPAYMENTS,
        "Housing Benefit Overpayments",
        "REV-5120",
        False,
        "benefits.overpayments@borsetshire.example",
        "01632 960505",
    ),
    DepartmentSpec(
        MISCELLANEOUS,
        "Miscellaneous Income",
        "FIN-9000",
        False,
        "income.recovery@borsetshire.example",
        "01632 960606",
    ),
)

# Who raises what: people owe for care, benefit overpayments and sundries;
# organisations for trade waste, rents and licences (weights are relative).
# Care contributions and trade waste (both billed every month) come out most common.
PERSON_DEPARTMENT_WEIGHTS = {ADULT_SOCIAL_CARE: 58, HB_OVERPAYMENTS: 22, MISCELLANEOUS: 20}
ORGANISATION_DEPARTMENT_WEIGHTS = {TRADE_WASTE: 65, LICENSING: 20, COMMERCIAL_RENTS: 15}

PAYMENT_METHOD_WEIGHTS = {
    ADULT_SOCIAL_CARE: {
        "direct_debit": 45,
        "bank_transfer": 15,
        "cheque": 15,
        "telephone_card": 15,
        "card": 10,
    },
    TRADE_WASTE: {"direct_debit": 50, "bank_transfer": 30, "card": 15, "telephone_card": 5},
    COMMERCIAL_RENTS: {"bank_transfer": 70, "direct_debit": 25, "cheque": 5},
    LICENSING: {"card": 50, "bank_transfer": 30, "telephone_card": 15, "cheque": 5},
    HB_OVERPAYMENTS: {
        "telephone_card": 25,
        "direct_debit": 25,
        "card": 20,
        "bank_transfer": 15,
        "cash": 10,
        "cheque": 5,
    },
    MISCELLANEOUS: {
        "card": 45,
        "telephone_card": 25,
        "bank_transfer": 15,
        "cash": 5,
        "cheque": 5,
        "direct_debit": 5,
    },
}


@dataclass(frozen=True)
class StaffSpec:
    key: str
    email: str
    full_name: str
    role: StaffRole
    refund_limit_pence: int
    write_off_limit_pence: int
    # The largest invoice they issue without a check (issue 12: debt in).
    invoice_limit_pence: int = 0
    # A service-department user's department (its code).
    department: str | None = None


# A second team leader exists so "approved by a different team leader" can be shown,
# and a second admin so a limit above the ceiling can be approved by another admin.
STAFF: tuple[StaffSpec, ...] = (
    StaffSpec(
        "officer",
        f"officer@{DEMO_EMAIL_DOMAIN}",
        "Priya Sharma",
        StaffRole.OFFICER,
        25_000,
        10_000,
        invoice_limit_pence=200_000,
    ),
    StaffSpec(
        "team_leader",
        f"team.leader@{DEMO_EMAIL_DOMAIN}",
        "Gareth Hughes",
        StaffRole.TEAM_LEADER,
        500_000,
        250_000,
        invoice_limit_pence=500_000,
    ),
    StaffSpec(
        "team_leader_2",
        f"team.leader2@{DEMO_EMAIL_DOMAIN}",
        "Fiona MacLeod",
        StaffRole.TEAM_LEADER,
        500_000,
        250_000,
        invoice_limit_pence=500_000,
    ),
    StaffSpec("admin", f"admin@{DEMO_EMAIL_DOMAIN}", "Sam Okafor", StaffRole.ADMIN, 0, 0),
    StaffSpec("admin_2", f"admin2@{DEMO_EMAIL_DOMAIN}", "Tomasz Nowak", StaffRole.ADMIN, 0, 0),
    StaffSpec("auditor", f"auditor@{DEMO_EMAIL_DOMAIN}", "Helen Carter", StaffRole.AUDITOR, 0, 0),
    # Raises Trade Waste's invoices; every one is checked before it goes out.
    StaffSpec(
        "service_department",
        f"trade.waste@{DEMO_EMAIL_DOMAIN}",
        "Dev Patel",
        StaffRole.SERVICE_DEPARTMENT,
        0,
        0,
        department=TRADE_WASTE,
    ),
)

# Each department's income codes: (code, description, cost centre, ledger code).
INCOME_CODES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    ADULT_SOCIAL_CARE: (
        ("ASC01", "Residential care contributions", "ASC-4120", "8101"),
        ("ASC02", "Home care contributions", "ASC-4121", "8102"),
    ),
    TRADE_WASTE: (
        ("TW01", "Commercial waste collections", "ENV-2210", "8201"),
        ("TW02", "Bulky and clinical waste", "ENV-2211", "8202"),
        ("TW03", "Bin hire", "ENV-2212", "8203"),
    ),
    COMMERCIAL_RENTS: (
        ("EST01", "Shop and office rents", "EST-3300", "8301"),
        ("EST02", "Service charges", "EST-3301", "8302"),
    ),
    LICENSING: (
        ("LIC01", "Premises licences", "REG-1450", "8401"),
        ("LIC02", "Taxi and private hire licences", "REG-1451", "8402"),
    ),
    HB_OVERPAYMENTS: (("HBOP1", "Housing benefit overpayments", "REV-5120", "8501"),),
    MISCELLANEOUS: (
        ("MISC1", "Sundry income", "FIN-9000", "8901"),
        ("MISC2", "Court costs recovered", "FIN-9001", "8902"),
    ),
}

ROLE_ORDER = {role: n for n, role in enumerate(StaffRole)}

# Real towns around the fictional county, with their real postcode districts,
# so addresses read true and postcode look-ups by area behave plausibly.
# (town, county, postcode districts)
TOWNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Worcester", "Worcestershire", ("WR1", "WR2", "WR3", "WR4", "WR5")),
    ("Malvern", "Worcestershire", ("WR13", "WR14")),
    ("Evesham", "Worcestershire", ("WR11",)),
    ("Pershore", "Worcestershire", ("WR10",)),
    ("Droitwich Spa", "Worcestershire", ("WR9",)),
    ("Kidderminster", "Worcestershire", ("DY10", "DY11")),
    ("Bromsgrove", "Worcestershire", ("B60", "B61")),
    ("Redditch", "Worcestershire", ("B97", "B98")),
    ("Stratford-upon-Avon", "Warwickshire", ("CV37",)),
    ("Warwick", "Warwickshire", ("CV34", "CV35")),
    ("Leamington Spa", "Warwickshire", ("CV31", "CV32")),
    ("Alcester", "Warwickshire", ("B49",)),
    ("Hereford", "Herefordshire", ("HR1", "HR2", "HR4")),
    ("Leominster", "Herefordshire", ("HR6",)),
    ("Ledbury", "Herefordshire", ("HR8",)),
    ("Ross-on-Wye", "Herefordshire", ("HR9",)),
    ("Ludlow", "Shropshire", ("SY8",)),
    ("Shrewsbury", "Shropshire", ("SY1", "SY2", "SY3")),
    ("Telford", "Shropshire", ("TF1", "TF2", "TF3", "TF4")),
    ("Bridgnorth", "Shropshire", ("WV15", "WV16")),
    ("Cheltenham", "Gloucestershire", ("GL50", "GL51", "GL52", "GL53")),
    ("Gloucester", "Gloucestershire", ("GL1", "GL2", "GL3", "GL4")),
    ("Tewkesbury", "Gloucestershire", ("GL20",)),
)
# Bigger towns appear more often.
TOWN_WEIGHTS = (14, 5, 4, 2, 3, 6, 5, 6, 4, 3, 5, 1, 7, 2, 2, 2, 2, 6, 8, 2, 8, 8, 2)

VILLAGES = (
    "Upton Snodsbury",
    "Inkberrow",
    "Clifton upon Teme",
    "Wellesbourne",
    "Kington",
    "Much Wenlock",
    "Bishops Cleeve",
    "Hanley Swan",
    "Ombersley",
    "Fladbury",
    "Broadway",
    "Bredon",
    "Wolverley",
    "Tenbury Wells",
    "Church Stretton",
)

# Letters the Royal Mail uses in the inward code (never C, I, K, M, O, V).
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

STREET_WORDS = (
    "Church",
    "Mill",
    "Station",
    "High",
    "Park",
    "Victoria",
    "Albert",
    "Queens",
    "Kings",
    "Manor",
    "School",
    "Green",
    "Orchard",
    "Chapel",
    "Meadow",
    "Oak",
    "Elm",
    "Ash",
    "Beech",
    "Willow",
    "Malvern",
    "Severn",
    "Avon",
    "Abbey",
    "Bridge",
    "Castle",
    "Farm",
    "Hill",
    "Windmill",
    "Brook",
    "Cherry",
    "Hawthorn",
    "Lime",
    "Poplar",
    "Rectory",
    "Vicarage",
    "Grange",
    "Springfield",
    "Westfield",
    "Northfield",
    "Sandy",
    "Stone",
    "Well",
    "Tything",
)
STREET_SUFFIXES = (
    "Road",
    "Street",
    "Lane",
    "Close",
    "Avenue",
    "Drive",
    "Way",
    "Crescent",
    "Gardens",
    "Grove",
    "Place",
    "Court",
    "Terrace",
    "Walk",
    "Rise",
    "View",
    "Mews",
    "Row",
)
STREET_SUFFIX_WEIGHTS = (24, 18, 14, 10, 8, 6, 4, 4, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1)
HOUSE_NAMES = (
    "Rose Cottage",
    "The Old Rectory",
    "Orchard House",
    "Ivy Cottage",
    "The Barn",
    "Holly Lodge",
    "Meadow View",
    "The Coach House",
    "Woodside",
    "Hillcrest",
    "The Laurels",
    "Fern Cottage",
    "Yew Tree Cottage",
    "The Old School House",
)
BLOCK_NAMES = (
    "Albion Court",
    "Severn House",
    "Victoria Mansions",
    "Priory Court",
    "Kingfisher House",
    "Mill Wharf",
    "St John's Court",
    "Cathedral View",
    "Riverside House",
    "Elgar Court",
)
ESTATES = (
    "Riverside Industrial Estate",
    "Blackpole Trading Estate",
    "Shire Business Park",
    "Hanley Road Industrial Estate",
    "Vale Business Centre",
    "Enterprise Park",
    "Station Yard Workshops",
    "Market Hall",
    "Crossways Retail Park",
    "Tything Arcade",
)

TRADES = (
    "Catering",
    "Motors",
    "Builders",
    "Hair & Beauty",
    "Convenience Stores",
    "Fish Bar",
    "Plumbing & Heating",
    "Landscapes",
    "Joinery",
    "Print",
    "Garden Centre",
    "Tea Rooms",
    "Bakery",
    "Florists",
    "Pharmacy",
    "Taxis",
    "Logistics",
    "Care Homes",
    "Day Nursery",
    "Kebab House",
    "Tyres",
    "Vehicle Repairs",
    "Cafe",
    "Dry Cleaners",
    "Butchers",
    "Electrical Services",
    "Scaffolding",
    "Skip Hire",
    "Kitchens",
    "Events",
)
# Professional partnerships are usually LLPs.
PARTNERSHIP_TRADES = (
    "Solicitors",
    "Accountants",
    "Architects",
    "Veterinary Surgeons",
    "Surveyors",
    "Dental Practice",
)
PUB_NAMES = (
    "Red Lion",
    "Swan",
    "Plough",
    "Royal Oak",
    "Bell",
    "Crown",
    "White Hart",
    "Bull",
    "Fleece",
    "Talbot",
    "Coach and Horses",
    "Three Horseshoes",
)

EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

# Ofcom drama ranges: 07700 900000-900999 (mobile) and these landline blocks.
MOBILE_PREFIX = "07700 900"
LANDLINE_PREFIXES = ("01632 960", "0121 496 0", "0117 496 0", "0115 496 0", "020 7946 0")

VULNERABILITY_REASONS = (
    "Recent bereavement (spouse died)",
    "Mental health condition: anxiety and depression",
    "Dementia: daughter holds lasting power of attorney",
    "In hospital following a fall",
    "Hearing impairment: contact by email or text, not phone",
    "Difficulty reading: explain letters by phone",
    "Serious illness: undergoing cancer treatment",
    "Domestic abuse: do not visit, use the mobile only",
    "Recently lost job; struggling with priority bills",
    "Full-time carer for a disabled child",
    "Learning disability: support worker helps with post",
    "Addiction recovery programme",
)

CREDIT_NOTE_REASONS = (
    "Invoice raised in error",
    "Service not provided on some collection days",
    "Care contribution reassessed after financial assessment",
    "Duplicate invoice",
    "Price corrected to the published tariff",
    "Goodwill credit agreed by the team leader",
)

OFFICER_NOTES = (
    (
        "call_in",
        "Debtor called to query the charge; explained how it was calculated",
        "query resolved",
    ),
    (
        "call_out",
        "Called debtor about the overdue balance; promised to pay by the end of the month",
        "promise to pay",
    ),
    ("call_out", "Called debtor; no answer, left a voicemail", "no contact"),
    (
        "note",
        "Debtor disputes the invoice; asked the service to confirm the charges",
        "dispute raised",
    ),
    (
        "call_in",
        "Debtor asked about paying in instalments; sent income and expenditure form",
        "arrangement discussed",
    ),
    ("email", "Emailed a copy invoice at the debtor's request", "copy sent"),
    ("note", "Returned mail: 'not known at this address'; tracing new address", "gone away"),
    ("call_in", "Relative called on the debtor's behalf; no authority on file yet", "third party"),
)
