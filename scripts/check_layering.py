#!/usr/bin/env python3
"""Fails on an #include that goes against the module layers of docs/ARCHITECTURE.md.

The layer table is the fenced block under "## Modules and layers": one row per module
(the module name starts the line, continuation lines are indented) ending with
"-> dep, dep, ..." for the modules it links directly. A module may include its own
headers and those of every module it reaches through that table (transitively).
Every folder under src/ must have a row, and every row must name known modules, so
the picture in the docs and the code cannot drift apart. fuzz/, bench/ and tests/
sit above all modules and are not checked.

Usage: check_layering.py [--root DIR]   (exit 0 clean, 1 violations, 2 unreadable table)
"""
import argparse
import os
import re
import sys

DEPS_AT_END = re.compile(r"->\s*([a-z][a-z0-9_]*(?:\s*,\s*[a-z][a-z0-9_]*)*)\s*$")
ROW_START = re.compile(r"^([a-z][a-z0-9_]*)\s")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([a-z][a-z0-9_]*)/[^"]+"')
SOURCE_SUFFIXES = (".cc", ".h", ".cpp", ".hpp", ".inc")


def read_layer_table(doc_path):
    """Returns {module: set(direct deps)} from the fenced block after the layers heading."""
    with open(doc_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if l.strip().lower() == "## modules and layers")
        fence = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
        end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
    except StopIteration:
        raise ValueError(f"{doc_path}: no fenced layer table under '## Modules and layers'")
    table, current = {}, None
    for line in lines[fence + 1:end]:
        row = ROW_START.match(line)
        if row:
            current = row.group(1)
            table.setdefault(current, set())
        if current is None:
            continue
        deps = DEPS_AT_END.search(line)
        if deps:
            table[current].update(d.strip() for d in deps.group(1).split(","))
    if not table:
        raise ValueError(f"{doc_path}: the layer table has no rows")
    return table


def reachable(table):
    """Transitive closure: {module: set(modules it may include, itself included)}."""
    out = {}
    for module in table:
        seen, todo = {module}, [module]
        while todo:
            for dep in table.get(todo.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        out[module] = seen
    return out


def check(root):
    """Returns a list of problems ("file:line: reason")."""
    doc = os.path.join(root, "docs", "ARCHITECTURE.md")
    src = os.path.join(root, "src")
    table = read_layer_table(doc)
    problems = []
    for module, deps in sorted(table.items()):
        for dep in sorted(deps - set(table)):
            problems.append(f"{doc}: module '{module}' depends on '{dep}', which has no row")
    modules = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    for module in modules:
        if module not in table:
            problems.append(f"{doc}: src/{module}/ has no row in the layer table")
    allowed = reachable(table)
    for module in modules:
        for dirpath, _, files in os.walk(os.path.join(src, module)):
            for name in sorted(files):
                if name.endswith(SOURCE_SUFFIXES):
                    path = os.path.join(dirpath, name)
                    problems += check_file(path, module, allowed.get(module, {module}), modules)
    return problems


def check_file(path, module, may_include, modules):
    problems = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m and m.group(1) in modules and m.group(1) not in may_include:
                problems.append(f"{path}:{number}: {module} may not include \"{m.group(1)}/...\" "
                                f"({module} reaches only {', '.join(sorted(may_include))})")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    args = ap.parse_args()
    try:
        problems = check(os.path.abspath(args.root))
    except (OSError, ValueError) as e:
        print(f"check_layering: {e}", file=sys.stderr)
        return 2
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check_layering: {len(problems)} layering violation(s); the layers are the table "
              "in docs/ARCHITECTURE.md", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
