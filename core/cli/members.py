"""Commands for members and the audit log: `members add|list|remove` and `audit`. The command line acts as the
local admin: whoever runs it has the project's files or AWS credentials anyway."""
from __future__ import annotations

import json
import sys

from core.access import ROLES


def register(sub) -> None:
    p = sub.add_parser("members", help="the project's members: who may sign in, with which role and groups")
    msub = p.add_subparsers(dest="members_command", required=True)
    a = msub.add_parser("add", help="add a member, or change a member's role and groups")
    a.add_argument("email")
    a.add_argument("--role", choices=ROLES, default="reviewer")
    a.add_argument("--group", dest="groups", action="append", default=[], help="a group (repeat for several)")
    a.set_defaults(func=add)
    ls = msub.add_parser("list", help="list members (LOUPE_ADMINS included)")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(func=list_members)
    r = msub.add_parser("remove", help="remove a member")
    r.add_argument("email")
    r.set_defaults(func=remove)
    au = sub.add_parser("audit", help="the audit log: who changed what, when, and the versions before and after")
    au.add_argument("--json", action="store_true", help="JSON Lines (one record per line)")
    au.add_argument("--who", default="")
    au.add_argument("--action", default="")
    au.set_defaults(func=audit)


def add(service, args) -> int:
    m = service.members.add(args.email, args.role, args.groups)
    sys.stdout.write(f"{m.email}: {m.role}{' in ' + ', '.join(m.groups) if m.groups else ''}\n")
    return 0


def list_members(service, args) -> int:
    for m in service.members.list():
        if args.json:
            row = {"email": m.email, "role": m.role, "groups": list(m.groups), "added_at": m.added_at,
                   "added_by": m.added_by, "from_loupe_admins": m.is_from_config}
            sys.stdout.write(json.dumps(row) + "\n")
        else:
            extra = " (LOUPE_ADMINS)" if m.is_from_config else ""
            sys.stdout.write(f"{m.email}\t{m.role}\t{','.join(m.groups)}{extra}\n")
    return 0


def remove(service, args) -> int:
    service.members.remove(args.email)
    sys.stdout.write(f"{args.email.strip().lower()} removed\n")
    return 0


def audit(service, args) -> int:
    for e in service.audit.entries(who=args.who, action=args.action):
        if args.json:
            sys.stdout.write(json.dumps(e.as_json()) + "\n")
        else:
            versions = f"v{e.before_version or '-'} -> v{e.after_version or '-'}"
            sys.stdout.write(f"{e.at}\t{e.who}\t{e.action}\t{e.target}\t{versions}\t{e.detail}\n")
    return 0
