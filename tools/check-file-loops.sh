#!/usr/bin/env bash
# Fails when two or more source files of the library or the CLI call each other in a loop
# (a.c uses a symbol of b.c, which uses one of a.c, perhaps through others): each file should
# rest on files below it.  Reads the object files of a build (`nm`), so build first:
#   bash tools/check-file-loops.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
objs=$(find "$dir/src" -name '*.o' -path '*.p/*' 2>/dev/null | sort)
[ -n "$objs" ] || { echo "check-file-loops: no object files under $dir/src (build first)" >&2; exit 2; }

# One line per object: "<object> <D|U> <symbol>" for each global symbol it defines or uses.
for o in $objs; do
  nm -g "$o" | awk -v o="$o" '$1 == "U" { print o, "U", $2; next } NF == 3 { print o, "D", $3 }'
done | /usr/bin/env python3 -c '
import sys, collections
defs, uses = {}, collections.defaultdict(set)
def name(o):  # build/src/libnablas.so.0.1.0.p/net_split.c.o -> net/split.c (folder_file.c)
    base = o.rsplit("/", 1)[1][:-2]
    if "/src/cli/" in o:
        return "cli/" + base
    for layer in ("core", "data", "kernels", "optim", "net", "train", "persist", "mpi", "cli"):
        if base.startswith(layer + "_"):
            return layer + "/" + base[len(layer) + 1:]
    return o
for line in sys.stdin:
    o, kind, sym = line.split()
    if kind == "D":
        defs.setdefault(sym, set()).add(name(o))
    else:
        uses[name(o)].add(sym)
graph = {f: {d for s in syms for d in defs.get(s, ()) if d != f} for f, syms in uses.items()}
for f in list(graph):
    for d in graph[f]:
        graph.setdefault(d, set())
# Tarjan: every strongly connected component of more than one file is a loop.
index, low, stack, on, loops, n = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in sorted(graph[v]):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1:
            loops.append(sorted(comp))
sys.setrecursionlimit(10000)
for v in sorted(graph):
    if v not in index:
        visit(v)
for comp in loops:
    detail = []
    for a in comp:
        for b in comp:
            if b in graph[a]:
                syms = sorted(s for s in uses[a] if b in defs.get(s, ()))
                detail.append("%s -> %s (%s)" % (a, b, ", ".join(syms)))
    print("check-file-loops: files that call each other: " + "; ".join(detail), file=sys.stderr)
if loops:
    sys.exit(1)
print("check-file-loops: no loop between files (%d files)" % len(graph))
'
