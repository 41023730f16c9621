"""Who may do what: the acting member (`Actor`), the three roles, and the one check every changing operation makes.

Every changing service operation takes `actor=` and asks `Access.require(actor, action)` before it writes, so the
rule holds for pages, the command line and the API alike. An actor that names a member is re-read from the store
on every check: a removed member or a changed role takes effect at the next click, not at the next sign-in.

`actor=None` means the member the app's frame is acting for (`acting`, set once per page run), else the
process's default actor: the local admin when `LOUPE_AUTH=none` (one person on a laptop)
and for the command line (it has the files or the AWS credentials anyway); nobody when `LOUPE_AUTH=oidc`, so a
page that forgets to pass the signed-in member is refused rather than let through.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from core.errors import LoupeError

if TYPE_CHECKING:
    from core.audit import AuditLog
    from core.domain import Workflow
    from core.members import Members

Role = Literal["admin", "reviewer", "viewer"]
ROLES: tuple[str, ...] = get_args(Role)
Source = Literal["local", "member", "api", "system"]

# action -> (roles allowed, what it is, in words after "can")
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "settings": (frozenset({"admin"}), "change the project settings"),
    "members": (frozenset({"admin"}), "manage members, roles and work teams"),
    "workflows": (frozenset({"admin"}), "change workflows and thresholds"),
    "loops": (frozenset({"admin"}), "start human loops"),
    "exports": (frozenset({"admin"}), "export or import answers"),
    "media": (frozenset({"admin"}), "upload, label or transcribe media"),
    "deletes": (frozenset({"admin"}), "delete"),
    "audit": (frozenset({"admin"}), "read the audit log"),
    "review": (frozenset({"admin", "reviewer"}), "take tasks and answer them"),
}


class NotAllowed(LoupeError):
    """The acting member's role (or work team) does not allow this; the message says who may, in words."""


class NotSignedIn(NotAllowed):
    """No member is signed in where sign-in is required."""


@dataclass(frozen=True)
class Actor:
    """The one acting: a member by verified email, the local admin (CLI, `LOUPE_AUTH=none`), or an API key.

    `source="member"`: `id` is the verified email; role and groups are re-read from the store at each check.
    `source="local"`: `id` is the typed reviewer name (may be empty); acts as admin and may answer under any name.
    `source="system"`: a background job doing what its submitter was allowed to when it was submitted.
    `source="api"`: an API key the API layer has verified; `id` names the key (e.g. "api:ci-bot") and `role` is the
    role that key maps onto (issue 14's admin -> "admin", client -> "reviewer"); trusted as given.
    """
    id: str
    role: Role = "viewer"
    groups: tuple[str, ...] = ()
    source: Source = "member"

    @property
    def is_local(self) -> bool:
        return self.source == "local"

    @property
    def label(self) -> str:
        return self.id or ("the local admin" if self.is_local else "someone")


LOCAL_ADMIN = Actor("", "admin", source="local")


def local_actor(name: str = "") -> Actor:
    """The actor for `LOUPE_AUTH=none`: the typed name, with every right (whoever reaches the page has them)."""
    return Actor(name.strip(), "admin", source="local")


def job_actor(created_by: str = "") -> Actor:
    """The actor a job handler acts as: the check was made when the job was submitted."""
    return Actor(created_by or "job", "admin", source="system")


def api_actor(key_name: str, role: Role) -> Actor:
    """The hook for the API (issue 14): a verified API key acts under its own name with its key's role."""
    return Actor(f"api:{key_name}", role, source="api")


def may_take(actor: Actor, wf: Workflow) -> bool:
    """Whether the actor is on the workflow's work team: an empty team is open to every reviewer; otherwise the
    team names member emails and groups. Admins (and the local admin) may take any workflow's tasks."""
    if actor.role == "admin":
        return True
    if actor.role != "reviewer":
        return False
    team = {t.strip().lower() for t in wf.team}
    return not team or actor.id.lower() in team or any(g.lower() in team for g in actor.groups)


def may(actor: Actor | None, action: str) -> bool:
    """Whether the actor's role allows `action` (a key of ACTIONS): what `Access.require` checks, for a face to hide
    what a role may not do."""
    return actor is not None and actor.role in ACTIONS[action][0]


def may_cancel_job(actor: Actor | None, created_by: str) -> bool:
    """Whether the actor may cancel a job started by `created_by`: an admin may cancel any job, anyone else only
    their own (a member demoted since they started it, an API key)."""
    if actor is None:
        return False
    if actor.role == "admin":
        return True
    return bool(actor.id and created_by) and actor.id.strip().lower() == created_by.strip().lower()


_acting: ContextVar[Actor | None] = ContextVar("loupe_acting_member", default=None)


@contextmanager
def acting(actor: Actor | None) -> Iterator[None]:
    """Within this block (one page run, on its own thread), a call that names no actor acts as `actor`. The app's
    frame sets it once per script run, so no page can forget to pass the signed-in member; job threads do not
    inherit it (a job acts as `job_actor`)."""
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


def acting_member() -> Actor | None:
    """The member set by `acting` for this run, if any."""
    return _acting.get()


class Access:
    """Resolves the acting member and checks an action against their role."""

    def __init__(self, members: Members | None = None, default: Actor | None = LOCAL_ADMIN,
                 audit: AuditLog | None = None):
        self.members = members
        self.default = default
        self.audit = audit

    def record(self, actor: Actor, action: str, target: str, *, before_version: int | None = None,
               after_version: int | None = None, detail: str = "") -> None:
        """Add an audit entry (core/audit.py) if this process keeps a log (parts built alone in tests do not)."""
        if self.audit is not None:
            self.audit.record(actor, action, target, before_version=before_version, after_version=after_version,
                              detail=detail)

    def current(self, actor: Actor | None) -> Actor:
        """The actor as the store knows them now. Raises NotSignedIn / NotAllowed in words."""
        if actor is None:
            actor = _acting.get()
        if actor is None:
            if self.default is None:
                raise NotSignedIn("Sign in first: this Loupe requires a signed-in member for any change.")
            return self.default
        if actor.source != "member":
            return actor
        fresh = self.members.actor_for(actor.id) if self.members else None
        if fresh is None:
            raise NotAllowed(f"{actor.id} is not a member of this project. Ask an admin to add you.")
        return fresh

    def require(self, actor: Actor | None, action: str) -> Actor:
        """The current actor if their role allows `action` (a key of ACTIONS), else NotAllowed naming who may."""
        current = self.current(actor)
        roles, what = ACTIONS[action]
        if not may(current, action):
            allowed = " or ".join(_article(r) for r in ROLES if r in roles)
            raise NotAllowed(f"{current.label} is {_article(current.role)}, and only {allowed} can {what}. "
                             "Ask an admin if you need this.")
        return current

    def require_cancel(self, actor: Actor | None, created_by: str, job: str) -> Actor:
        """The current actor if they may cancel `job`, started by `created_by` (`may_cancel_job`), else NotAllowed."""
        current = self.current(actor)
        if not may_cancel_job(current, created_by):
            raise NotAllowed(f"{current.label} is {_article(current.role)}, and only an admin or the one who started "
                             f"it can cancel {job} (started by {created_by or 'nobody named'}). Ask an admin if it "
                             "must stop.")
        return current

    def require_team(self, actor: Actor | None, wf: Workflow) -> Actor:
        """The current actor if they may take tasks of this workflow, else NotAllowed."""
        current = self.require(actor, "review")
        if not may_take(current, wf):
            raise NotAllowed(f"{current.label} is not on the work team of workflow {wf.name!r}, so its tasks are "
                             "not yours to take. Ask an admin to add you to its team.")
        return current

    def reviewer_id(self, actor: Actor, worker_id: str) -> str:
        """The name an answer is recorded under: the typed name for the local admin, else always the member's own
        id; a different name given for a member is refused (nobody answers as somebody else)."""
        if actor.is_local:
            return worker_id
        typed = (worker_id or "").strip()
        if typed and typed.lower() != actor.id.lower():
            raise NotAllowed(f"{actor.label} cannot answer as {typed!r}: an answer is always recorded under the "
                             "signed-in member.")
        return actor.id


def _article(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


OPEN = Access()  # for parts built on their own (unit tests): the local admin, no audit log
