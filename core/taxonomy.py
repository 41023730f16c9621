"""Rekognition's moderation taxonomy v6.1 (two levels), the names A2I's pre-built moderation task UI shows."""
from __future__ import annotations

from dataclasses import dataclass

from core.domain import HumanLoop, Prediction, Workflow

TAXONOMY_V6_1: dict[str, tuple[str, ...]] = {
    "Explicit Nudity": ("Nudity", "Graphic Male Nudity", "Graphic Female Nudity", "Sexual Activity",
                        "Illustrated Explicit Nudity", "Adult Toys"),
    "Suggestive": ("Female Swimwear Or Underwear", "Male Swimwear Or Underwear", "Partial Nudity", "Barechested Male",
                   "Revealing Clothes", "Sexual Situations"),
    "Violence": ("Graphic Violence Or Gore", "Physical Violence", "Weapon Violence", "Weapons", "Self Injury"),
    "Visually Disturbing": ("Emaciated Bodies", "Corpses", "Hanging", "Air Crash", "Explosions And Blasts"),
    "Rude Gestures": ("Middle Finger",),
    "Drugs": ("Drug Products", "Drug Use", "Pills", "Drug Paraphernalia"),
    "Tobacco": ("Tobacco Products", "Smoking"),
    "Alcohol": ("Drinking", "Alcoholic Beverages"),
    "Gambling": ("Gambling",),
    "Hate Symbols": ("Nazi Party", "White Supremacy", "Extremist"),
}
PARENT_OF: dict[str, str] = {child: parent for parent, children in TAXONOMY_V6_1.items() for child in children
                             if child != parent}
WHOLE_TAXONOMY = "*"  # a workflow whose categories are ("*",) shows every category


@dataclass(frozen=True)
class Category:
    """One checkbox on the moderation task page."""
    name: str
    parent_name: str = ""
    confidence: float | None = None  # the model's, 0..1, when it suggested this category

    @property
    def description(self) -> str:
        where = f"Under {self.parent_name}" if self.parent_name else "Top-level category"
        return where + ("" if self.confidence is None else f" · model {self.confidence:.0%}")


def task_categories(workflow: Workflow, loop: HumanLoop, prediction: Prediction | None) -> list[Category]:
    """The categories to show: by default the labels that triggered the loop, as A2I does; or the workflow's list."""
    everything = {lb.name: lb for lb in (prediction.labels if prediction else ())}
    model = {n: lb for n, lb in everything.items() if lb.category == "moderation"}
    whole = [n for p, kids in TAXONOMY_V6_1.items() for n in (p, *(k for k in kids if k != p))]
    if workflow.categories:
        names = whole if WHOLE_TAXONOMY in workflow.categories else list(workflow.categories)
    else:
        # The labels that triggered the loop; a loop routed on other labels shows those; else the model's
        # moderation labels; with nothing at all to go on, the whole taxonomy.
        names = [n for n in model if n in loop.reasons] or list(loop.reasons) or list(model) or whole
        model = {n: everything[n] for n in names if n in everything}
    seen: dict[str, Category] = {}
    for name in names:
        lb = model.get(name)
        parent = (lb.parent_name if lb else "") or PARENT_OF.get(name, "")
        seen.setdefault(name, Category(name, parent, lb.confidence if lb else None))
    return list(seen.values())
