"""The pool of visitors a scenario draws from: compact parallel arrays indexed by visitor number.

A visitor is one browser on one network (a place, a user agent and a unique IPv4 address), so
its cookieless device id is stable and distinct. Some visitors have an account (a user with a
profile id, name and email); others get one when they sign up during the scenario.
"""

from __future__ import annotations

import hashlib
import ipaddress
import unicodedata
from array import array
from dataclasses import dataclass

from sample_data.site import EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, PLACES

_NETWORKS = [ipaddress.IPv4Network(p.network) for p in PLACES]
NO_USER = -1


@dataclass(frozen=True, slots=True)
class User:
    """An account: the profile id the site sends, the names and email it identifies with."""

    profile_id: str
    first_name: str
    last_name: str
    email: str
    plan: str


class Visitors:
    """Visitors and users of one scenario; append-only, deterministic given the calls made."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.place = array("B")
        self.ua = array("B")
        self.ip = array("L")
        self.user = array("l")
        self.last_end = array("q")
        self._per_place = [0] * len(PLACES)
        self.users: list[User] = []

    def __len__(self) -> int:
        return len(self.place)

    def add(self, place: int, ua: int) -> int:
        """A new visitor at `place` with user agent number `ua`; returns its number. Addresses
        are unique up to 262,142 visitors per place (a /14); past that they repeat."""
        net = _NETWORKS[place]
        offset = 1 + self._per_place[place] % (net.num_addresses - 2)
        self._per_place[place] += 1
        self.place.append(place)
        self.ua.append(ua)
        self.ip.append(int(net.network_address) + offset)
        self.user.append(NO_USER)
        self.last_end.append(-(2**62))
        return len(self.place) - 1

    def ip_text(self, visitor: int) -> str:
        return str(ipaddress.IPv4Address(self.ip[visitor]))

    def give_account(self, visitor: int, first: int, last: int, domain: int, plan: str) -> User:
        """Create the visitor's user (names are indexes into the site's name lists)."""
        number = len(self.users)
        digest = hashlib.blake2b(f"{self.seed}:{number}".encode(), digest_size=5).hexdigest()
        first_name, last_name = FIRST_NAMES[first], LAST_NAMES[last]
        local = _ascii(f"{first_name}.{last_name}").lower().replace("'", "")
        user = User(
            profile_id=f"usr_{digest}{number}",
            first_name=first_name,
            last_name=last_name,
            email=f"{local}{number}@{EMAIL_DOMAINS[domain]}",
            plan=plan,
        )
        self.users.append(user)
        self.user[visitor] = number
        return user

    def account(self, visitor: int) -> User | None:
        number = self.user[visitor]
        return None if number == NO_USER else self.users[number]


def _ascii(text: str) -> str:
    """Drop accents (José → Jose, Łukasz → Lukasz) for an email's local part."""
    text = text.replace("Ł", "L").replace("ł", "l")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
