"""Profiles as the pipeline leaves them after a scenario, tracked compactly while rows stream.

The pipeline (jobs/profiles.py) updates a profile when a visit starts (the first event's profile)
and when it ends (the visit's profile), each time merging the visit's geo/device context, path
and referrer (non-empty values only), and on every identify call (names, the identify's
properties and the client's geo/device; `is_external`). A visitor has one place and one browser,
so the final properties are its context plus the latest path, the latest non-empty referrer
fields and, for users, the identify's `plan` and latest non-empty `__referrer`. State is a few
integers per visitor (anonymous profile) and per user, in arrays.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator

import pyarrow as pa

from jobs.enrich.referrer import Referrer
from jobs.enrich.useragent import Device
from sample_data.schema import PROFILES
from sample_data.site import PLACES
from sample_data.visitors import NO_USER, Visitors

_FIELDS = ("created", "last", "path", "ref", "ref_name", "ref_type", "ident_ref", "identified")


class _States:
    """Per-profile integers (times in epoch ms, strings as interned ids; 0 = none)."""

    def __init__(self) -> None:
        self.created = array("q")
        self.last = array("q")
        self.path = array("l")
        self.ref = array("l")
        self.ref_name = array("l")
        self.ref_type = array("l")
        self.ident_ref = array("l")
        self.identified = array("b")

    def touch(self, i: int, at_ms: int) -> None:
        if i >= len(self.created):
            grow = i + 1 - len(self.created)
            for name in _FIELDS:
                getattr(self, name).extend([0] * grow)
        if not self.created[i]:
            self.created[i] = at_ms
        self.last[i] = max(at_ms, self.last[i] + 1)

    def touched(self) -> Iterator[int]:
        return (i for i, created in enumerate(self.created) if created)


class ProfileTracker:
    """Follows the profile updates of the visits added to a RowBuilder, in time order."""

    def __init__(self, visitors: Visitors, devices: list[Device]) -> None:
        self.visitors = visitors
        self.devices = devices
        self.anon = _States()
        self.users = _States()
        self._strings = [""]
        self._ids = {"": 0}

    def _id(self, text: str) -> int:
        found = self._ids.get(text)
        if found is None:
            found = self._ids[text] = len(self._strings)
            self._strings.append(text)
        return found

    def seen(self, visitor: int, is_user: bool, at_ms: int, path: str, ref: Referrer) -> None:
        """A visit started or ended for the visitor's anonymous profile or its user."""
        states, i = (self.users, self.visitors.user[visitor]) if is_user else (self.anon, visitor)
        states.touch(i, at_ms)
        if path:
            states.path[i] = self._id(path)
        if ref.url:
            states.ref[i] = self._id(ref.url)
        if ref.name:
            states.ref_name[i] = self._id(ref.name)
        if ref.type:
            states.ref_type[i] = self._id(ref.type)

    def identify(self, visitor: int, at_ms: int, referrer: str) -> None:
        """The visitor's user identified (the SDK sends its global `__referrer` along)."""
        i = self.visitors.user[visitor]
        assert i != NO_USER
        self.users.touch(i, at_ms)
        self.users.identified[i] = 1
        if referrer:
            self.users.ident_ref[i] = self._id(referrer)

    # -- rows ----------------------------------------------------------------------------------
    def tables(
        self, project_id: str, device_of: Callable[[int], str], chunk: int = 100_000
    ) -> Iterator[pa.Table]:
        """The final profile rows, `chunk` at a time (anonymous ids from `device_of(visitor)`)."""
        rows = _ProfileRows(project_id)
        owners = {user: v for v, user in enumerate(self.visitors.user) if user != NO_USER}
        for v in self.anon.touched():
            rows.add(device_of(v), False, self._properties(self.anon, v, v, None), self.anon, v)
            if len(rows) >= chunk:
                yield rows.take()
        for u in self.users.touched():
            user = self.visitors.users[u]
            identified = bool(self.users.identified[u])
            props = self._properties(self.users, u, owners[u], user.plan if identified else None)
            names = (user.first_name, user.last_name, user.email) if identified else ("", "", "")
            rows.add(user.profile_id, True, props, self.users, u, names)
            if len(rows) >= chunk:
                yield rows.take()
        if len(rows):
            yield rows.take()

    def _properties(
        self, states: _States, i: int, visitor: int, plan: str | None
    ) -> list[tuple[str, str]]:
        place = PLACES[self.visitors.place[visitor]]
        device = self.devices[self.visitors.ua[visitor]]
        context = (
            ("country", place.country),
            ("city", place.city),
            ("region", place.region),
            ("latitude", str(place.latitude)),
            ("longitude", str(place.longitude)),
            ("os", device.os),
            ("os_version", device.os_version),
            ("browser", device.browser),
            ("browser_version", device.browser_version),
            ("device", device.device),
            ("brand", device.brand),
            ("model", device.model),
        )
        out = [(k, v) for k, v in context if v]
        for key, column in (
            ("path", states.path),
            ("referrer", states.ref),
            ("referrer_name", states.ref_name),
            ("referrer_type", states.ref_type),
            ("__referrer", states.ident_ref),
        ):
            if column[i]:
                out.append((key, self._strings[column[i]]))
        if plan is not None:
            out.append(("plan", plan))
        return out


class _ProfileRows:
    def __init__(self, project_id: str) -> None:
        self.project_id = project_id
        self._reset()

    def _reset(self) -> None:
        self.ids: list[str] = []
        self.external: list[bool] = []
        self.names: list[tuple[str, str, str]] = []
        self.created: list[int] = []
        self.last: list[int] = []
        self.offsets = [0]
        self.keys: list[str] = []
        self.values: list[str] = []

    def __len__(self) -> int:
        return len(self.ids)

    def add(
        self,
        profile_id: str,
        external: bool,
        props: list[tuple[str, str]],
        states: _States,
        i: int,
        names: tuple[str, str, str] = ("", "", ""),
    ) -> None:
        self.ids.append(profile_id)
        self.external.append(external)
        self.names.append(names)
        self.created.append(states.created[i])
        self.last.append(states.last[i])
        for key, value in props:
            self.keys.append(key)
            self.values.append(value)
        self.offsets.append(len(self.keys))

    def take(self) -> pa.Table:
        n = len(self.ids)
        first, last, email = zip(*self.names, strict=True) if n else ((), (), ())
        table = pa.table(
            {
                "id": pa.array(self.ids, pa.string()),
                "is_external": pa.array(self.external, pa.bool_()),
                "first_name": pa.array(first, pa.string()),
                "last_name": pa.array(last, pa.string()),
                "email": pa.array(email, pa.string()),
                "avatar": pa.array([""] * n, pa.string()),
                "properties": pa.MapArray.from_arrays(
                    pa.array(self.offsets, pa.int32()),
                    pa.array(self.keys, pa.string()),
                    pa.array(self.values, pa.string()),
                ),
                "project_id": pa.array([self.project_id] * n, pa.string()),
                "groups": pa.array([[]] * n, pa.list_(pa.string())),
                "created_at": pa.array(self.created, pa.timestamp("ms", tz="UTC")),
                "last_seen_at": pa.array(self.last, pa.timestamp("ms", tz="UTC")),
            },
            schema=PROFILES,
        )
        self._reset()
        return table
