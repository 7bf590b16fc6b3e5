#!/usr/bin/env python3
"""Runs the command transcripts of a page (README.md or docs/*.md) as written and compares
their output with the page's.

A transcript is a fenced block whose first line starts with "$ ": each "$ " line is a command
(a line ending in a backslash continues on the next), the lines up to the next command are its
output (stdout and stderr together).  The commands run one after another in one bash, in a
fresh directory holding the data files the pages name (tools/make_blobs.py blobs.csv,
tools/make_regression.py houses.csv), with `nablas` on PATH and `tools/demo.sh` standing for
the demo the build made (DEMO).  A page may name commands that make the files its transcripts
start from (a model trained in another page's session) in lines
"<!-- transcript-setup: COMMAND -->"; they run first, and must succeed.  Numbers are compared as "#"
(timings and the last digits of a float differ from machine to machine and from build to
build, and so do checksums of floats; the words, the lines and their order must not), and runs
of spaces as one.  A block that follows the line
"<!-- transcript: varies by CPU -->" (an iterative method whose path depends on the last bit
of a float) must run without error and end with the line the page shows.

usage: transcript.py PAGE.md   (environment: NABLAS, the executable; SRC, the source root;
                                DEMO, the demo program, for pages that run tools/demo.sh)
"""
import os
import re
import subprocess
import sys
import tempfile

SETUP = re.compile(r"^<!-- transcript-setup: (.*) -->$", re.M)
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
HEX = re.compile(r"\b(?=[0-9a-f]*[0-9])[0-9a-f]{6,}\b")  # checksums: the bits of the floats


VARIES = "<!-- transcript: varies by CPU -->"


def transcripts(text):
    """[(command, [expected output lines], varies)] of every transcript block, in page order."""
    out, block, before, varies = [], None, "", False
    for line in text.split("\n"):
        if line.startswith("```"):
            if block is None:
                block, varies = [], before == VARIES
            else:
                if block and block[0].startswith("$ "):
                    out.extend((c, e, varies) for c, e in parse(block))
                block = None
        elif block is not None:
            block.append(line)
        elif line.strip():
            before = line.strip()
    return out


def parse(lines):
    cmds, i = [], 0
    while i < len(lines):
        cmd = lines[i][2:]
        while cmd.endswith("\\"):
            i += 1
            cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        cmds.append((cmd, expected))
    return cmds


def norm(line):
    return " ".join(NUMBER.sub("#", HEX.sub("#", line)).split())


def main():
    page = sys.argv[1]
    text = open(page, encoding="utf-8").read()
    cmds = transcripts(text)
    if not cmds:
        sys.exit(f"{page}: no command transcript found")
    src, nablas = os.environ["SRC"], os.environ["NABLAS"]
    with tempfile.TemporaryDirectory(prefix="nablas-transcript-") as work:
        os.mkdir(os.path.join(work, "bin"))
        os.symlink(nablas, os.path.join(work, "bin", "nablas"))
        for tool, name in (("make_blobs.py", "blobs.csv"), ("make_regression.py", "houses.csv")):
            subprocess.run([sys.executable, os.path.join(src, "tools", tool), name], cwd=work,
                           check=True, stdout=subprocess.DEVNULL)
        if os.environ.get("DEMO"):
            os.mkdir(os.path.join(work, "tools"))
            with open(os.path.join(work, "tools", "demo.sh"), "w") as f:
                f.write('#!/bin/sh\nexec "$DEMO" "$@"\n')
            os.chmod(os.path.join(work, "tools", "demo.sh"), 0o755)
        env = dict(os.environ, PATH=os.path.join(work, "bin") + os.pathsep + os.environ["PATH"])
        for cmd in SETUP.findall(text):
            subprocess.run(["bash", "-c", cmd], cwd=work, env=env, check=True,
                           stdout=subprocess.DEVNULL, timeout=600)
        marker = "@@nablas-transcript@@"
        # each command's status is printed after it, then restored for the next ("echo $?")
        script = "".join(f"echo {marker}\n{cmd} 2>&1\nrc=$?; echo @rc=$rc; (exit $rc)\n"
                         for cmd, _, _ in cmds)
        got = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True,
                             text=True, timeout=600).stdout
    chunks = got.split(marker + "\n")[1:]
    bad = 0
    for (cmd, expected, varies), chunk in zip(cmds, chunks):
        chunk, _, rc = chunk.rstrip("\n").rpartition("@rc=")
        want = [norm(l) for l in expected if l.strip()]
        have = [norm(l) for l in chunk.split("\n") if l.strip()]
        if varies:
            want, have = want[-1:], (have[-1:] if rc == "0" else ["exit status " + rc])
        if want != have:
            bad += 1
            print(f"$ {cmd}\n  the page shows:\n    " + "\n    ".join(expected) +
                  "\n  it printed:\n    " + "\n    ".join(chunk.rstrip("\n").split("\n")))
    if len(chunks) != len(cmds):
        sys.exit(f"{page}: {len(cmds)} commands, {len(chunks)} ran")
    print(f"{page}: {len(cmds) - bad} of {len(cmds)} commands print what the page shows")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
