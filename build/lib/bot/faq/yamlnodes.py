"""Reading YAML as nodes, so every problem can be reported with its file and line.

`yaml.safe_load` forgets where a value came from; `faq check` must say "warranty.yaml:41", so the
FAQ files are composed into nodes (with libyaml when available) and walked by hand. All values in
these files are text, so scalars are read as their literal source text ("000" stays "000").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

# libyaml is ~10x faster; PyYAML built without it falls back to the pure-Python loader.
Loader = type[yaml.CSafeLoader | yaml.SafeLoader]
SAFE_LOADER: Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Issue:
    """One problem in a config file, printed as `path:line: message` like a compiler error."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{display_path(self.path)}:{self.line}: {self.message}"


def display_path(path: Path) -> str:
    """Relative to the working directory when possible: short and clickable in a terminal."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def line_of(node: yaml.Node) -> int:
    """1-based line where a node starts."""
    return node.start_mark.line + 1


def compose_file(path: Path) -> tuple[yaml.Node | None, list[Issue]]:
    """Parse a file into its root node; a syntax error becomes an Issue at the offending line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Issue(path, 1, f"cannot read file: {exc}")]
    try:
        return yaml.compose(text, Loader=SAFE_LOADER), []
    except yaml.MarkedYAMLError as exc:
        # An unclosed bracket or quote is only noticed at the end of the file; the context mark
        # points at where it was opened, which is the line to fix.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        context = f" ({exc.context})" if exc.context else ""
        return None, [Issue(path, line, f"YAML syntax error: {exc.problem or exc}{context}")]


def mapping_items(
    node: yaml.Node, path: Path, issues: list[Issue], what: str
) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
    """A mapping node as {key: (key_node, value_node)}; reports non-mappings and repeated keys."""
    if not isinstance(node, yaml.MappingNode):
        issues.append(Issue(path, line_of(node), f"{what} must be a mapping"))
        return None
    items: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
        if key in items:
            issues.append(Issue(path, line_of(key_node), f"{what}: key '{key}' appears twice"))
        items[key] = (key_node, value_node)
    return items


def sequence_items(
    node: yaml.Node, path: Path, issues: list[Issue], what: str
) -> list[yaml.Node] | None:
    """The children of a sequence node; reports anything else."""
    if not isinstance(node, yaml.SequenceNode):
        issues.append(Issue(path, line_of(node), f"{what} must be a list"))
        return None
    return list(node.value)


def scalar_text(node: yaml.Node, path: Path, issues: list[Issue], what: str) -> str | None:
    """The literal text of a non-empty scalar, stripped; reports lists, mappings and blanks."""
    if not isinstance(node, yaml.ScalarNode):
        issues.append(Issue(path, line_of(node), f"{what} must be text"))
        return None
    text = str(node.value).strip()
    if not text:
        issues.append(Issue(path, line_of(node), f"{what} must not be empty"))
        return None
    return text


def text_list(node: yaml.Node, path: Path, issues: list[Issue], what: str) -> list[tuple[str, int]]:
    """A list of texts with their lines; bad items are reported and skipped."""
    children = sequence_items(node, path, issues, what)
    if children is None:
        return []
    texts: list[tuple[str, int]] = []
    for child in children:
        text = scalar_text(child, path, issues, f"an item of {what}")
        if text is not None:
            texts.append((text, line_of(child)))
    return texts
