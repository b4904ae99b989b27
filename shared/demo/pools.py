"""Pools of names and places, built once with Faker and then sampled cheaply.

Faker costs tens of microseconds a call, too slow for millions of rows, so it
is called a few thousand times up front (seeded, so pools are reproducible)
and the seeder samples from the pools with its own random.Random.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from random import Random

from faker import Faker

from shared.demo import catalogue

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, sep: str = "") -> str:
    return _NOT_SLUG.sub(sep, text.lower()).strip(sep)


@dataclass(frozen=True)
class Pools:
    male_forenames: tuple[str, ...]
    female_forenames: tuple[str, ...]
    surnames: tuple[str, ...]
    streets: tuple[str, ...]
    organisation_names: tuple[tuple[str, bool], ...]  # (name, is an LLP)


@functools.lru_cache(maxsize=4)
def build_pools(seed: int, size: int = 5_000) -> Pools:
    """Faker-made pools for `seed`; the same seed always gives the same pools."""
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    rng = Random(f"demo-pools:{seed}")
    male = tuple(fake.first_name_male() for _ in range(size // 2))
    female = tuple(fake.first_name_female() for _ in range(size // 2))
    surnames = tuple(fake.last_name() for _ in range(size))

    streets = []
    for _ in range(size):
        # Half named after places and trees, half after people, as real streets are.
        word = rng.choice(catalogue.STREET_WORDS) if rng.random() < 0.5 else rng.choice(surnames)
        suffix = rng.choices(catalogue.STREET_SUFFIXES, catalogue.STREET_SUFFIX_WEIGHTS)[0]
        streets.append(f"{word} {suffix}")

    organisations = []
    for _ in range(size):
        r = rng.random()
        town = rng.choices(catalogue.TOWNS, catalogue.TOWN_WEIGHTS)[0][0]
        if r < 0.12:
            partners = f"{rng.choice(surnames)} {rng.choice(surnames)}"
            trade = rng.choice(catalogue.PARTNERSHIP_TRADES)
            organisations.append((f"{partners} {trade} LLP", True))
        elif r < 0.22:
            pub = rng.choice(catalogue.PUB_NAMES)
            organisations.append((f"The {pub} ({town}) Ltd", False))
        elif r < 0.40:
            organisations.append((f"{town} {rng.choice(catalogue.TRADES)} Ltd", False))
        elif r < 0.50:
            organisations.append((f"{rng.choice(surnames)} & Sons Limited", False))
        else:
            trade = rng.choice(catalogue.TRADES)
            organisations.append((f"{rng.choice(surnames)} {trade} Ltd", False))
    return Pools(male, female, surnames, tuple(streets), tuple(organisations))


def postcode(rng: Random, districts: tuple[str, ...]) -> str:
    """A postcode in one of the town's real districts, in the Royal Mail format."""
    letters = catalogue.INWARD_LETTERS
    return f"{rng.choice(districts)} {rng.randrange(10)}{rng.choice(letters)}{rng.choice(letters)}"


def mobile(rng: Random) -> str:
    return f"{catalogue.MOBILE_PREFIX}{rng.randrange(1000):03d}"


def landline(rng: Random) -> str:
    prefix = rng.choice(catalogue.LANDLINE_PREFIXES)
    digits = 11 - len(prefix.replace(" ", ""))  # UK numbers are 11 digits with the leading 0
    return f"{prefix}{rng.randrange(10**digits):0{digits}d}"
