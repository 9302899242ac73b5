#!/usr/bin/env python3
"""Every option a program's --help prints is documented in its manual page,
and every option the page defines is one the program prints (issue 14), so
the pages cannot fall behind the code.

For originaudit(1), each command's options are looked for in the page's
"## COMMAND" section (the top-level ones in GLOBAL OPTIONS); for
originaudit-proxy(8), in OPTIONS. An option printed with its short form
("-c, --config FILE") must be defined with it ("*-c*, *--config*").
An option is defined by a line that starts with *-.

Usage: check_man_options.py ORIGINAUDIT ORIGINAUDIT_PROXY originaudit.1.scd originaudit-proxy.8.scd
"""
import re
import subprocess
import sys

LONG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
PAIR = re.compile(r"^\s*(-[A-Za-z]), (--[a-z][a-z0-9-]*)", re.M)
COMMAND = re.compile(r"^  ([a-z][a-z-]+) {2,}\S", re.M)


def run_help(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(argv)} exited {p.returncode}: {p.stderr}")
    return p.stdout


def sections(scd):
    """Maps '# NAME' and '## NAME' headings to their text (a '##' section
    ends at the next heading of either level)."""
    out = {}
    name = None
    for line in scd.splitlines():
        m = re.match(r"^(#{1,2}) (.+)$", line)
        if m:
            name = m.group(2).strip()
            out[name] = []
            continue
        if name is not None:
            out[name].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def defined(section):
    """The options a section defines: (long, short or None) of each *-...
    line, a short option paired with the long one after it."""
    longs, pairs = set(), set()
    for line in section.splitlines():
        if not line.startswith("*-"):
            continue
        opts = re.findall(r"\*(-{1,2}[A-Za-z][a-z0-9-]*)\*", line)
        for i, o in enumerate(opts):
            if o.startswith("--"):
                longs.add(o)
                if i > 0 and not opts[i - 1].startswith("--"):
                    pairs.add((opts[i - 1], o))
    return longs, pairs


def option_text(help_text):
    """The parts of a --help that name options: the usage lines and, in the
    "Options:" list, the option column (what precedes the description, two
    spaces or more to its right; a line indented deeper continues a
    description). Examples in descriptions are not options."""
    lines = help_text.splitlines()
    out = []
    i = 0
    while i < len(lines) and (lines[i].startswith("Usage:") or
                              (out and lines[i].startswith("  ") and lines[i].strip())):
        out.append(lines[i])
        i += 1
    in_options = False
    for line in lines[i:]:
        if line.startswith("Options:"):
            in_options = True
            continue
        if not line.strip():
            in_options = False
            continue
        if in_options:
            indent = len(line) - len(line.lstrip())
            if indent <= 6:
                out.append(re.split(r"(?<=\S) {2,}", line.strip(), maxsplit=1)[0])
    return "\n".join(out)


def compare(what, help_text, section, errors, extra_ok=()):
    help_text = option_text(help_text)
    printed = set(LONG.findall(help_text))
    printed_pairs = set(PAIR.findall(help_text))
    longs, pairs = defined(section)
    for o in sorted(printed - longs):
        errors.append(f"{what}: {o} is in --help, not defined in the manual page")
    for o in sorted(longs - printed - set(extra_ok)):
        errors.append(f"{what}: {o} is defined in the manual page, not in --help")
    for s, o in sorted(printed_pairs - pairs):
        errors.append(f"{what}: --help prints '{s}, {o}', the manual page does not")
    return len(printed)


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    oa, proxy, page1, page8 = sys.argv[1:]
    s1 = sections(open(page1).read())
    s8 = sections(open(page8).read())
    errors = []
    checked = 0

    top = run_help([oa, "--help"])
    checked += compare("originaudit", top, s1.get("GLOBAL OPTIONS", ""), errors)
    commands = [c for c in COMMAND.findall(top.split("Commands:", 1)[1].split("Options:", 1)[0])]
    if not commands:
        errors.append("originaudit --help lists no commands")
    for cmd in commands:
        if cmd not in s1:
            errors.append(f"originaudit(1) has no '## {cmd}' section")
            continue
        if cmd == "help":
            continue
        # check-config prints no option list for -h; the page documents it.
        checked += compare(f"originaudit {cmd}", run_help([oa, "help", cmd]), s1[cmd],
                           errors, extra_ok=("--help",))
    checked += compare("originaudit-proxy", run_help([proxy, "--help"]),
                       s8.get("OPTIONS", ""), errors)
    for e in errors:
        print("FAIL:", e)
    print(f"{checked} options printed by --help, {len(commands)} commands")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
