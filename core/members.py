"""Members of the project: a verified email, a role (admin, reviewer, viewer) and groups, kept in the project's store.

`LOUPE_ADMINS` names emails that are admins whatever the store says, which bootstraps the first admin of a new
store (as `python -m core members add EMAIL --role admin` does). Every change is checked (admins only) and
audited, and the last admin can be neither removed nor demoted.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

from core.access import ROLES, Access, Actor, Role
from core.audit import AuditLog
from core.domain import as_dict, from_dict, utc_now
from core.errors import LoupeError, VersionConflict
from core.stores.base import RecordStore

if TYPE_CHECKING:
    from core.config import Config

KIND = "member"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_GROUP = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}")


@dataclass(frozen=True)
class Member:
    email: str  # lower-case; the key
    role: Role = "reviewer"
    groups: tuple[str, ...] = ()
    added_at: str = ""
    added_by: str = ""
    is_from_config: bool = False  # named in LOUPE_ADMINS (not stored, or stored and overridden to admin)
    version: int | None = None  # the stored record's version; None if only in LOUPE_ADMINS


def normal_email(email: str) -> str:
    """An email as members are keyed: trimmed and lower-cased. Raises LoupeError if it is not an email."""
    clean = (email or "").strip().lower()
    if not _EMAIL.fullmatch(clean) or len(clean) > 254:
        raise LoupeError(f"{email!r} is not an email address; a member is named by the email they sign in with.")
    return clean


def checked_groups(groups: Sequence[str]) -> tuple[str, ...]:
    out = []
    for g in groups:
        name = g.strip()
        if not name:
            continue
        if "@" in name or not _GROUP.fullmatch(name):
            raise LoupeError(f"{g!r} cannot be a group name: use up to 63 letters, digits, spaces, dots, "
                             "underscores or hyphens.")
        out.append(name)
    return tuple(dict.fromkeys(out))


class Members:
    def __init__(self, records: RecordStore, audit: AuditLog, config_admins: frozenset[str] = frozenset()):
        self.records = records
        self.audit = audit
        self.config_admins = config_admins
        self.access = Access(self, audit=audit)  # replaced by the service's, which knows the default actor

    @classmethod
    def from_config(cls, records: RecordStore, audit: AuditLog, config: Config) -> Members:
        return cls(records, audit, config.admin_emails)

    # ---- reading -----------------------------------------------------------------------------------
    def get(self, email: str) -> Member | None:
        key = (email or "").strip().lower()
        rec = self.records.get(KIND, key) if key else None
        member = replace(from_dict(Member, rec.body), version=rec.version) if rec else None
        if key in self.config_admins:
            return replace(member or Member(key, added_by="LOUPE_ADMINS"), role="admin", is_from_config=True)
        return member

    def list(self) -> list[Member]:
        """Stored members and LOUPE_ADMINS, by email."""
        emails = {rec.key for rec in self.records.query(KIND)} | set(self.config_admins)
        return [m for m in (self.get(e) for e in sorted(emails)) if m is not None]

    def actor_for(self, email: str) -> Actor | None:
        """The acting member for a verified email, or None if that email is not a member."""
        member = self.get(email)
        return Actor(member.email, member.role, member.groups) if member else None

    def sign_in(self, email: str) -> Actor | None:
        """The acting member for an email the identity provider verified, audited either way (a non-member's
        attempt too); None if the email is not a member."""
        actor = self.actor_for(email)
        who = actor or Actor((email or "").strip().lower(), "viewer")
        self.audit.record(who, "sign-in", who.id, detail="" if actor else "refused: not a member")
        return actor

    # ---- changing (admins only, audited) -----------------------------------------------------------
    def add(self, email: str, role: str = "reviewer", groups: Sequence[str] = (), *,
            actor: Actor | None = None) -> Member:
        """Add a member, or change an existing member's role and groups."""
        current = self.access.require(actor, "members")
        email = normal_email(email)
        if role not in ROLES:
            raise LoupeError(f"A role is one of {', '.join(ROLES)}, not {role!r}.")
        checked_role = cast(Role, role)
        groups = checked_groups(groups)
        rec = self.records.get(KIND, email)
        if rec is None:
            body = as_dict(Member(email, checked_role, groups, utc_now(), current.label))
            after = self.records.create(KIND, email, body).version
            before = None
        else:
            old = from_dict(Member, rec.body)
            if old.role == "admin" and role != "admin":
                self._refuse_if_last_admin(email, f"make {email} {role}")
            after = self.records.put(KIND, email, as_dict(replace(old, role=checked_role, groups=groups)),
                                     expected_version=rec.version).version
            before = rec.version
        self.access.record(current, "member", email, before_version=before, after_version=after,
                          detail=f"role={role} groups={','.join(groups)}")
        added = self.get(email)
        assert added is not None  # just written
        return added

    def remove(self, email: str, *, actor: Actor | None = None) -> None:
        current = self.access.require(actor, "members")
        email = (email or "").strip().lower()
        rec = self.records.get(KIND, email)
        if rec is None:
            if email in self.config_admins:
                raise LoupeError(f"{email} is an admin through LOUPE_ADMINS; remove it there and restart Loupe.")
            raise LoupeError(f"{email} is not a member.")
        if rec.body.get("role") == "admin":
            self._refuse_if_last_admin(email, f"remove {email}")
        try:
            self.records.delete(KIND, email, expected_version=rec.version)
        except VersionConflict:
            raise LoupeError(f"{email} was changed by someone else just now; nothing was removed. "
                             "Look again and retry.") from None
        self.access.record(current, "member", email, before_version=rec.version, detail="removed")

    def _refuse_if_last_admin(self, email: str, doing: str) -> None:
        admins = {m.email for m in self.list() if m.role == "admin"}
        if admins <= {email}:
            raise LoupeError(f"Cannot {doing}: they are the last admin, and a project needs one. "
                             "Make someone else admin first.")
