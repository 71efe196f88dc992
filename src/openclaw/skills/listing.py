"""The skills part of the system prompt: an `<available_skills>` block the model reads to decide
which `SKILL.md` to open (with the read tool) before it acts.

One `<skill>` per usable skill, sorted by name: `<name>`, `<description>`, `<location>` (the
absolute `SKILL.md` path), XML-escaped. Within `skills.limits.maxSkillsInPrompt` skills and
`maxSkillsPromptChars` characters: when the full block is too long, descriptions are shortened
(down to none), then skills are left out from the end; a note then says so and points at
`openclaw skills check`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from openclaw.skills.roots import Skill

HEADING = "Skills"
INTRO = ("Skills are written instructions for particular kinds of task, each in a SKILL.md file. Before you "
         "act on a request that matches a skill's description, read that skill's file at its location with "
         "the read tool, then follow it. Relative paths in a skill (and {baseDir}) mean the folder that holds "
         "its SKILL.md: use the absolute path in commands. Read only the skill that applies, and only when "
         "one does.")
LONGEST_DESCRIPTION = 220
_SKILL = re.compile(r"(  <skill>\n    <name>(.*?)</name>\n.*?  </skill>)", re.S)
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})


def escape(text: str) -> str:
    return text.translate(_ESCAPES)


def _short(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:max(0, limit - 3)].rstrip() + "..." if limit > 3 else text[:limit]


def _entry(skill: Skill, limit: int | None) -> str:
    lines = ["  <skill>", f"    <name>{escape(skill.name)}</name>"]
    if limit is None or limit > 0:
        text = skill.front.description if limit is None else _short(skill.front.description, limit)
        lines.append(f"    <description>{escape(text)}</description>")
    lines += [f"    <location>{escape(str(skill.file_path))}</location>", "  </skill>"]
    return "\n".join(lines)


def _render(skills: Sequence[Skill], limit: int | None, total: int) -> str:
    note = ""
    if len(skills) < total:
        note = (f"\n\n(Only {len(skills)} of {total} skills are listed; `openclaw skills check` shows them all.)")
    elif limit is not None:
        note = "\n\n(Descriptions are shortened to fit; `openclaw skills check` shows them in full.)"
    body = "\n".join(_entry(s, limit) for s in skills)
    return f"{INTRO}{note}\n\n<available_skills>\n{body}\n</available_skills>"


def prompt_report(text: str) -> dict[str, Any]:
    """What the block costs, as upstream's `systemPromptReport.skills` reports it: its size, a hash,
    and each listed skill's name with the size of its `<skill>` element."""
    import hashlib
    import html

    entries = [{"name": html.unescape(m.group(2)), "blockChars": len(m.group(1))} for m in _SKILL.finditer(text)]
    return {"promptChars": len(text), "hash": hashlib.sha256(text.encode()).hexdigest(), "entries": entries}


def _fits(text: str, budget: int) -> bool:
    return len(text) <= budget


def render(skills: Sequence[Skill], max_skills: int, max_chars: int) -> tuple[str, list[Skill]]:
    """The block for `skills` (already the usable ones) within the limits, and the skills it lists
    ("" and none when none fit)."""
    ordered = sorted(skills, key=lambda s: s.name)
    total = len(ordered)
    chosen = ordered[:max_skills]
    if not chosen:
        return "", []
    full = _render(chosen, None, total)
    if _fits(full, max_chars):
        return full, chosen
    if _fits(_render(chosen, 0, total), max_chars):  # every skill fits: find the longest descriptions that do
        low, high = 0, LONGEST_DESCRIPTION
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if _fits(_render(chosen, mid, total), max_chars) else (low, mid - 1)
        return _render(chosen, low, total), chosen
    low, high = 0, len(chosen)  # names and locations only, as many skills as fit
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if _fits(_render(chosen[:mid], 0, total), max_chars) else (low, mid - 1)
    return (_render(chosen[:low], 0, total), chosen[:low]) if low else ("", [])
