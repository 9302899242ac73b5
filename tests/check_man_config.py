#!/usr/bin/env python3
"""The configuration keys agree in three places (issue 14): the README's
configuration table, originaudit.json(5) and the keys the loader accepts
(the key lists core/config/config.c and config_proxy.c pass to
oa__cfg_check_keys). Each is turned into a set of dotted paths
(origins[].domain_name, proxy.listen[].tls.key, ...); the test fails on any
difference, naming the key and where it is missing.

Usage: check_man_config.py SOURCE_ROOT
"""
import re
import sys
from pathlib import Path

# The loader's functions that check an object's keys, and the path of that
# object. A new keys array elsewhere fails the test until it is added here.
LOADER_OBJECTS = {
    "oa_config_from_json": [""],
    "parse_origin": ["origins[]"],
    "parse_behavior": ["behaviors[]", "default_behavior"],
    "parse_scan": ["scan"],
    "oa__cfg_proxy": ["proxy"],
    "parse_listener": ["proxy.listen[]"],
    "parse_tls": ["proxy.listen[].tls"],
    "parse_admin": ["proxy.admin"],
    "parse_cache": ["proxy.cache"],
}
# Keys a loader function lists but then refuses at that path: the default
# behaviour matches every path, so parse_behavior refuses its path_pattern.
LOADER_REFUSED = {"default_behavior.path_pattern"}

BACKTICK = re.compile(r"`([^`]+)`")
KEY = re.compile(r"^[a-z_][a-z0-9_]*(\[\])?(\.[a-z_][a-z0-9_]*(\[\])?)*$")


def join(prefix, key):
    return key if not prefix else prefix + "." + key


def strip_array(path):
    return path[:-2] if path.endswith("[]") else path


def with_ancestors(paths):
    """Adds every enclosing object of each path (proxy.cache for
    proxy.cache.max_bytes), written without [] as a key is."""
    out = set()
    for p in paths:
        parts = p.split(".")
        for i in range(1, len(parts) + 1):
            out.add(strip_array(".".join(parts[:i])))
    return out


def expand_default_behavior(paths):
    """default_behavior has the keys of a behaviour but path_pattern (the
    README and the manual say so once instead of listing them twice)."""
    out = set(paths)
    if "default_behavior" in out:
        for p in paths:
            if p.startswith("behaviors[].") and p != "behaviors[].path_pattern":
                out.add("default_behavior." + p[len("behaviors[]."):])
    return out


def loader_keys(root):
    paths = set()
    errors = []
    func = re.compile(r"^(?:static )?int ([a-z_0-9]+)\(", re.M)
    array = re.compile(r"static const char \*const keys\[\] = \{(.*?)\};", re.S)
    for name in ("config.c", "config_proxy.c"):
        text = (root / "core" / "config" / name).read_text()
        starts = [(m.start(), m.group(1)) for m in func.finditer(text)]
        for m in array.finditer(text):
            owner = None
            for pos, fname in starts:
                if pos < m.start():
                    owner = fname
            keys = re.findall(r'"([^"]+)"', m.group(1))
            if owner not in LOADER_OBJECTS:
                errors.append(
                    f"core/config/{name}: keys {keys} in {owner}(), which "
                    "tests/check_man_config.py does not know: add its path "
                    "to LOADER_OBJECTS")
                continue
            for prefix in LOADER_OBJECTS[owner]:
                for k in keys:
                    paths.add(join(prefix, k))
    if not paths:
        errors.append("found no key lists in core/config/config.c and config_proxy.c")
    return with_ancestors(paths) - LOADER_REFUSED, errors


def readme_table(root):
    """The rows of the table under '### Configuration': (key cell, rules cell)."""
    lines = (root / "README.md").read_text().splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if l.startswith("### Configuration"))
        head = next(i for i in range(start, len(lines))
                    if lines[i].startswith("| key |"))
    except StopIteration:
        return None
    rows = []
    for line in lines[head + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append((cells[0], cells[-1]))
    return rows


def readme_keys(root, loader):
    """A key cell names top-level keys (aliases, scan.ca_bundle) or, with a
    leading dot, keys of an object of an earlier row (.id under origins[]),
    resolved from the innermost such object out. The rules cell names keys
    of the row's object (behaviors[]: `path_pattern` ...); of its backticked
    words, those the loader accepts there are counted."""
    rows = readme_table(root)
    if rows is None:
        return set(), ["README.md: no '| key |' table under '### Configuration'"]
    paths = set()
    errors = []
    stack = []

    def exists(path):
        plain = path.replace("[]", "")
        return any(p.replace("[]", "") == plain or
                   p.replace("[]", "").startswith(plain + ".") for p in loader)

    def is_object(path):
        plain = path.replace("[]", "")
        return any(p.replace("[]", "").startswith(plain + ".") for p in loader)

    for key_cell, rules in rows:
        tokens = [t for t in BACKTICK.findall(key_cell)]
        if not tokens:
            errors.append(f"README.md: a configuration row without a key: {key_cell!r}")
            continue
        for tok in tokens:
            if tok.startswith("."):
                resolved = None
                for prefix in reversed(stack):
                    if exists(join(prefix, tok[1:])):
                        resolved = join(prefix, tok[1:])
                        break
                if resolved is None:
                    errors.append(f"README.md: key {tok} fits no object of the rows above it "
                                  "(or the loader does not accept it)")
                    continue
            elif KEY.match(tok):
                resolved = tok
            else:
                errors.append(f"README.md: {tok!r} in the key column is not a key")
                continue
            while stack and not resolved.startswith(stack[-1] + "."):
                stack.pop()
            if is_object(resolved):
                stack.append(resolved)
            paths.add(resolved)
            for word in BACKTICK.findall(rules):
                child = join(resolved, word)
                if KEY.match(word) and child in loader:
                    paths.add(child)
    return expand_default_behavior(with_ancestors(paths)), errors


def man_keys(root):
    """Every key the manual defines: a line that starts with *key* in the
    sections from TOP LEVEL on, possibly several separated by commas."""
    text = (root / "doc" / "man" / "originaudit.json.5.scd").read_text()
    paths = set()
    section = None
    for line in text.splitlines():
        if line.startswith("# "):
            section = line[2:].strip()
            continue
        if section not in ("TOP LEVEL", "ORIGINS", "BEHAVIORS", "SCAN", "PROXY"):
            continue
        if line.startswith("*"):
            for m in re.finditer(r"\*([^*]+)\*", line):
                if KEY.match(m.group(1)):
                    paths.add(m.group(1))
    return expand_default_behavior(with_ancestors(paths))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(sys.argv[1])
    loader, errors = loader_keys(root)
    readme, readme_errors = readme_keys(root, loader)
    errors += readme_errors
    man = man_keys(root)
    for name, keys in (("README.md's configuration table", readme),
                       ("originaudit.json(5)", man)):
        for k in sorted(loader - keys):
            errors.append(f"{k}: accepted by the loader, missing from {name}")
        for k in sorted(keys - loader):
            errors.append(f"{k}: in {name}, not accepted by the loader")
    for e in errors:
        print("FAIL:", e)
    print(f"{len(loader)} keys in the loader, {len(readme)} in the README, "
          f"{len(man)} in originaudit.json(5)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
