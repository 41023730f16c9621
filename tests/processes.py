"""Run one test function in several real Python processes at once (writers racing on one store).

Not multiprocessing: after an AppTest run in the same pytest process, `__main__` is the app script, and a spawned
child would run it again. Each child imports its target, says it is ready, and starts when every child is.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_BOOT = """
import importlib, json, sys, time
from pathlib import Path
module, name = sys.argv[1].split(":")
target = getattr(importlib.import_module(module), name)
flags = Path(sys.argv[2])
(flags / f"ready-{sys.argv[3]}").touch()
while not (flags / "go").exists():
    time.sleep(0.005)
target(*json.loads(sys.argv[4]))
"""


def run_together(target: str, arguments: list[list], *, timeout_s: float = 180.0) -> None:
    """Call `module:function(*args)` in one process per entry of `arguments`, all released at once; fails with a
    child's stderr if any child fails."""
    flags = Path(tempfile.mkdtemp(prefix="together-"))
    children = [subprocess.Popen([sys.executable, "-c", _BOOT, target, str(flags), str(i), json.dumps(args)],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for i, args in enumerate(arguments)]
    deadline = time.monotonic() + timeout_s
    while len(list(flags.glob("ready-*"))) < len(children):
        if any(c.poll() is not None for c in children) or time.monotonic() > deadline:
            break  # a child died (or hangs) before it was ready: its error is reported below
        time.sleep(0.01)
    (flags / "go").touch()
    for child in children:
        _, err = child.communicate(timeout=max(1.0, deadline - time.monotonic()))
        assert child.returncode == 0, err[-3000:]
