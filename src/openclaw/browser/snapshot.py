"""Accessibility snapshots with stable refs.

A node's ref is `e<backendDOMNodeId>`: the same DOM node keeps the same ref
in every snapshot of the document, so an agent can snapshot, act, and
snapshot again without refs shifting under it.
"""

from __future__ import annotations

from typing import Any

SKIP_ROLES = {"none", "InlineTextBox", "LineBreak"}
WRAPPER_ROLES = {"generic", "GenericContainer", "group", "Section", "paragraph", "LayoutTable", "LayoutTableRow",
                 "LayoutTableCell", "Pre", "Div"}
INTERACTIVE = {"button", "link", "textbox", "searchbox", "checkbox", "radio", "combobox", "listbox", "option",
               "menuitem", "menuitemcheckbox", "menuitemradio", "tab", "switch", "slider", "spinbutton", "treeitem"}


def ref_for(node: dict[str, Any]) -> str | None:
    backend = node.get("backendDOMNodeId")
    return f"e{backend}" if isinstance(backend, int) else None


def backend_id(ref: str) -> int | None:
    text = ref.strip()
    return int(text[1:]) if text.startswith("e") and text[1:].isdigit() else None


def _value(field: Any) -> str:
    if isinstance(field, dict):
        value = field.get("value")
        return "" if value is None else str(value)
    return ""


def build(ax_nodes: list[dict[str, Any]], interactive_only: bool = False) -> list[dict[str, Any]]:
    """Flatten the AX tree into `{ref, role, name, value?, depth}` rows, skipping empty wrappers."""
    by_id = {n["nodeId"]: n for n in ax_nodes if "nodeId" in n}
    roots = [n for n in ax_nodes if not n.get("parentId") or n.get("parentId") not in by_id]
    rows: list[dict[str, Any]] = []

    def visit(node: dict[str, Any], depth: int) -> None:
        role = _value(node.get("role"))
        name = _value(node.get("name")).strip()
        keep = not node.get("ignored") and role not in SKIP_ROLES and not (role in WRAPPER_ROLES and not name)
        if role == "StaticText" and (not name or _parent_named(node, by_id, name)):
            keep = False
        if keep and interactive_only and role not in INTERACTIVE:
            keep = False
        if keep:
            row: dict[str, Any] = {"ref": ref_for(node), "role": "text" if role == "StaticText" else role,
                                   "name": name, "depth": depth}
            value = _value(node.get("value"))
            if value:
                row["value"] = value
            rows.append(row)
        for child_id in node.get("childIds") or []:
            child = by_id.get(child_id)
            if child is not None:
                visit(child, depth + 1 if keep else depth)

    for root in roots:
        visit(root, 0)
    return rows


def _parent_named(node: dict[str, Any], by_id: dict[str, Any], name: str) -> bool:
    parent = by_id.get(str(node.get("parentId")))
    return parent is not None and _value(parent.get("name")).strip() == name


def render(rows: list[dict[str, Any]]) -> str:
    """`- role "name" [ref=eN]` lines, indented by depth."""
    lines = []
    for row in rows:
        text = f"{'  ' * row['depth']}- {row['role']}"
        if row["name"]:
            text += f' "{row["name"]}"'
        if row.get("value"):
            text += f" value={row['value']!r}"
        if row["ref"] and row["role"] != "text":
            text += f" [ref={row['ref']}]"
        lines.append(text)
    return "\n".join(lines)
