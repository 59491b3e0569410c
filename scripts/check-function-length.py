#!/usr/bin/env python3
"""Lists every function in src/ longer than the limit (80 lines, signature to closing brace)
and exits 1 when there is one (issue #14: no function over 80 lines)."""
import glob, os, re, sys

LIMIT = 80
root = sys.argv[1] if len(sys.argv) > 1 else "."
found = []
for path in sorted(glob.glob(os.path.join(root, "src", "**", "*.c"), recursive=True)):
    lines = open(path, encoding="utf-8").read().split("\n")
    start = None
    for i, line in enumerate(lines):
        if start is None and line.endswith("{") and re.match(r"^[A-Za-z_]", line) \
                and "=" not in line and not re.match(r"^(struct|enum|union|typedef)\b", line):
            start = i
            while start > 0 and lines[start - 1].strip() and re.match(r"^\s", lines[start]) \
                    and not lines[start - 1].rstrip().endswith((";", "}", "*/")):
                start -= 1
        elif start is None and line.endswith(") {") and re.match(r"^\s+\S", line):
            j = i  # a signature continued over several lines
            while j > 0 and re.match(r"^\s", lines[j]):
                j -= 1
            if re.match(r"^[A-Za-z_].*\(", lines[j]) and not lines[j].rstrip().endswith((";", "}")):
                start = j
        elif start is not None and line == "}":
            if i - start + 1 > LIMIT:
                found.append(f"{os.path.relpath(path, root)}:{start + 1}: {i - start + 1} lines: "
                             f"{lines[start].strip()[:60]}")
            start = None
for f in found:
    print(f)
sys.exit(1 if found else 0)
