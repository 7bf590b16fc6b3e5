#!/usr/bin/env python3
"""Lists the functions of src/ longer than N lines (default 80), longest first: a brace counter
over each .c file (string and character literals and // comments masked), counting from the
line that starts the definition to its closing brace.  docs/conventions.md: a function longer
than about 80 lines is split into named helpers unless a table or a switch reads better whole.
Usage: /usr/bin/python3 tools/long-functions.py [N]   (exit status 0; it only reports)"""
import os
import re
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 80
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src')
found = []
for folder, _, files in os.walk(root):
    for name in sorted(files):
        if not name.endswith('.c'):
            continue
        path = os.path.join(folder, name)
        lines = open(path, encoding='utf-8').read().split('\n')
        depth, start, head = 0, None, None
        for i, line in enumerate(lines):
            s = re.sub(r'"(\\.|[^"\\])*"', '""', line)
            s = re.sub(r"'(\\.|[^'\\])*'", "''", s)
            s = re.sub(r'//.*', '', s)
            if depth == 0 and '{' in s and start is None:
                j = i
                while j >= 0 and not re.match(r'^[A-Za-z_]', lines[j]):
                    j -= 1
                text = ' '.join(lines[j:i + 1])
                if '(' in text and '=' not in lines[j].split('(')[0] \
                        and not re.match(r'^(static\s+)?(const\s+)?(struct|enum|typedef|union)\b', lines[j]):
                    start, head = j, lines[j].strip()
            depth += s.count('{') - s.count('}')
            if depth == 0 and start is not None and '}' in s:
                if i - start + 1 > N:
                    found.append((i - start + 1, os.path.relpath(path, os.path.join(root, '..')), start + 1, head))
                start = None
for n, path, line, head in sorted(found, reverse=True):
    print(f'{n:4d} {path}:{line} {head[:80]}')
