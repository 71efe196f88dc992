"""Cutting a reply into the pieces a platform accepts (each has its own length limit)."""

from __future__ import annotations


def split_message(text: str, limit: int) -> list[str]:
    """Chunks of at most `limit` characters, cut at a newline (else a space) when one is near."""
    chunks: list[str] = []
    rest = text or " "
    while len(rest) > limit:
        cut = rest.rfind("\n", limit // 2, limit)
        if cut < 0:
            cut = rest.rfind(" ", limit // 2, limit)
        cut = cut if cut > 0 else limit
        chunks.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    chunks.append(rest)
    return chunks
