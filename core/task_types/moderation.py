"""The moderation task: reviewers tick the moderation categories that apply (A2I's built-in Rekognition task)."""
from __future__ import annotations

from typing import Any

from core.formats.a2i import MODERATION_SOURCE
from core.task_types.spec import LABELS, TaskType


def moderation_content(labels: list[tuple[str, str]]) -> dict[str, Any]:
    """A2I's answerContent for the moderation task: the categories picked, as `{name, parentName}`."""
    return {MODERATION_SOURCE: {"moderationLabels": [{"name": n, "parentName": p} for n, p in labels]}}


def read_labels(content: dict[str, Any]) -> dict[str, str]:
    """Label name -> parent name under any `AWS/...` source of an answerContent (camel or Pascal case)."""
    out: dict[str, str] = {}
    for key, value in content.items():
        if isinstance(value, dict) and key.startswith("AWS/"):
            for item in value.get("moderationLabels", value.get("ModerationLabels", [])) or []:
                name = str(item.get("name", item.get("Name", ""))).strip()
                if name:
                    out[name] = str(item.get("parentName", item.get("ParentName", "")) or "")
    return out


SPEC = TaskType(name="moderation", title="Moderation", page="pages/moderation_task.py", label_category="moderation",
                routes_by=LABELS, build_answer=moderation_content, read_labels=read_labels,
                aws_managed_source=MODERATION_SOURCE)
