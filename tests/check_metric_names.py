#!/usr/bin/env python3
"""Every metric the Grafana dashboard and the alert rules name is exported.

Usage: check_metric_names.py --exported FILE [--exported FILE ...] DASHBOARD.json RULES.yml

The exported names are read from real expositions (the scanner's and the
proxy's, produced by tests/test_promtool.c), never from a list kept here. Every
PromQL expression of the dashboard (targets' "expr", templating queries) and
of the rules file ("expr:" keys, plain or block scalars) is searched for
identifiers starting with "originaudit_"; each must be an exported family.
Exits 1 naming what is missing, 0 otherwise.
"""
import json
import re
import sys

NAME = re.compile(r"\boriginaudit_[a-zA-Z0-9_:]*")


def exported_names(path):
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# TYPE ") or line.startswith("# HELP "):
                names.add(line.split()[2])
            elif line.strip() and not line.startswith("#"):
                names.add(re.split(r"[{ ]", line, 1)[0])
    return names


def dashboard_exprs(path):
    exprs = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("expr", "query", "definition") and isinstance(value, str):
                    exprs.append(value)
                elif key == "query" and isinstance(value, dict):
                    exprs.append(value.get("query", ""))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    with open(path, encoding="utf-8") as f:
        walk(json.load(f))
    return exprs


def rules_exprs(path):
    exprs = []
    lines = open(path, encoding="utf-8").read().splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)(?:-\s+)?expr:\s*(.*)$", lines[i])
        i += 1
        if not m:
            continue
        indent, value = len(m.group(1)), m.group(2).strip()
        if value in ("|", ">", "|-", ">-"):
            block = []
            while i < len(lines) and (not lines[i].strip() or
                                      len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i])
                i += 1
            value = "\n".join(block)
        exprs.append(value.strip("'\""))
    return exprs


def main(argv):
    exported = set()
    files = []
    it = iter(argv)
    for arg in it:
        if arg == "--exported":
            exported |= exported_names(next(it))
        else:
            files.append(arg)
    if not exported or len(files) == 0:
        print(__doc__, file=sys.stderr)
        return 2
    missing = []
    n_exprs = 0
    for path in files:
        exprs = dashboard_exprs(path) if path.endswith(".json") else rules_exprs(path)
        if not exprs:
            missing.append(f"{path}: no PromQL expression found")
        for expr in exprs:
            n_exprs += 1
            for name in NAME.findall(expr):
                if name not in exported:
                    missing.append(f"{path}: {name} (in {expr!r}) is not exported")
    if missing:
        print("\n".join(missing))
        return 1
    print(f"{n_exprs} expressions, every metric they name is exported")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
