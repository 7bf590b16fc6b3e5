#!/bin/bash
# Standard input and output and gzip-compressed CSV: `--out -` and /dev/stdout (and a FIFO)
# get the same bytes a file would, `--data -` reads a pipe (CSV, gzip or NPY), a .csv.gz gives
# the same results as its .csv, and what is refused says so on one line.  Run by meson test with
# $NABLAS, $PYTHON and $SRC set, as cli_test.sh.  Usage: stdio_test.sh CASE
. "$(dirname "$0")/harness.sh"
model() {
    "$PYTHON" "$SRC/tools/make_blobs.py" --rows 200 blobs.csv
    run 0 train --data blobs.csv --label-column species --layers 8:tanh,3 --epochs 5 \
        --lr 0.05 --seed 3 --standardize --out c.nbm
    run 0 predict --model c.nbm --data blobs.csv --out ref.csv
}
# x.npy: the features of blobs.csv as float32 (written without NumPy)
npy() {
    "$PYTHON" - <<'PY'
import struct
rows = [l.strip().split(",") for l in open("blobs.csv")][1:]
vals = [float(v) for r in rows for v in r[:-1]]
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (len(rows), len(rows[0]) - 1)
hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
with open("x.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    f.write(struct.pack("<%df" % len(vals), *vals))
PY
}

case $case_name in
out_stdout) # --out - and /dev/stdout (a pipe, a file, a FIFO): the bytes of --out FILE
    model
    "$NABLAS" predict --model c.nbm --data blobs.csv --out - >piped.csv 2>err ||
        fail "--out - failed"
    cmp ref.csv piped.csv || fail "--out - differs from --out FILE"
    has err "200 predictions written to stdout"
    one_line
    "$NABLAS" predict --model c.nbm --data blobs.csv --out /dev/stdout 2>err | cat >pipe2.csv
    [ "${PIPESTATUS[0]}" -eq 0 ] || { cat err; fail "--out /dev/stdout | cat failed"; }
    cmp ref.csv pipe2.csv || fail "--out /dev/stdout (a pipe) differs"
    "$NABLAS" predict --model c.nbm --data blobs.csv --out /dev/stdout >file.csv 2>err ||
        fail "--out /dev/stdout >file failed"
    cmp ref.csv file.csv || fail "--out /dev/stdout (a file) differs"
    mkfifo fifo
    cat fifo >fromfifo.csv &
    reader=$!
    run 0 predict --model c.nbm --data blobs.csv --out fifo
    wait "$reader"
    cmp ref.csv fromfifo.csv || fail "--out FIFO differs"
    [ -p fifo ] || fail "the FIFO was replaced"
    has err "predictions written to fifo"
    run 0 predict --model c.nbm --data blobs.csv --jacobian j.npy
    "$NABLAS" predict --model c.nbm --data blobs.csv --jacobian - >jpiped.npy 2>err ||
        fail "--jacobian - failed"
    cmp j.npy jpiped.npy || fail "--jacobian - differs from --jacobian FILE"
    run 0 predict --model c.nbm --data blobs.csv --out /dev/null
    ;;
data_stdin) # --data - from a pipe or a redirect: CSV and NPY, for predict, eval and train
    model
    "$NABLAS" predict --model c.nbm --data - --out a.csv <blobs.csv >out 2>err ||
        { cat err; fail "--data - <file failed"; }
    cmp ref.csv a.csv || fail "--data - differs from --data FILE"
    cat blobs.csv | "$NABLAS" predict --model c.nbm --data - --out - >b.csv 2>err ||
        { cat err; fail "cat | --data - failed"; }
    cmp ref.csv b.csv || fail "a pipe into --data - differs"
    run 0 eval --model c.nbm --data blobs.csv
    mv out eval_file.txt
    "$NABLAS" eval --model c.nbm --data - <blobs.csv >eval_stdin.txt 2>err || fail "eval --data -"
    cmp eval_file.txt eval_stdin.txt || fail "eval --data - differs"
    opts=(--label-column species --layers 8:tanh,3 --epochs 5 --lr 0.05 --seed 3 --standardize)
    "$NABLAS" train --data - "${opts[@]}" --out s.nbm <blobs.csv >out 2>err ||
        { cat err; fail "train --data -"; }
    cmp c.nbm s.nbm || fail "train --data - gives another model"
    npy
    run 0 predict --model c.nbm --data x.npy --out n.csv
    "$NABLAS" predict --model c.nbm --data - --out n2.csv <x.npy >out 2>err ||
        { cat err; fail "NPY on --data -"; }
    cmp n.csv n2.csv || fail "NPY through --data - differs"
    printf 'x0,x1,x2,x3\n1,2,3,4\n1,2,oops,4\n' >bad.csv
    "$NABLAS" predict --model c.nbm --data - --out o.csv <bad.csv >out 2>err
    [ $? -eq 1 ] || fail "a bad table on stdin was accepted"
    has err "nablas predict: <stdin>:3:3: not a number: 'oops'"
    one_line
    "$NABLAS" predict --model c.nbm --data - --out o.csv </dev/zero >out 2>err
    [ $? -eq 1 ] || fail "binary stdin was accepted"
    has err "<stdin>: a NUL byte at offset 0: binary data, not CSV text"
    ;;
gzip) # .csv.gz == .csv byte for byte; gzip on stdin; truncated and bomb files refused
    model
    gzip -9 -c blobs.csv >blobs.csv.gz
    run 0 predict --model c.nbm --data blobs.csv.gz --out g.csv
    cmp ref.csv g.csv || fail ".csv.gz predictions differ from .csv"
    run 0 train --data blobs.csv.gz --label-column species --layers 8:tanh,3 --epochs 5 \
        --lr 0.05 --seed 3 --standardize --out g.nbm
    cmp c.nbm g.nbm || fail ".csv.gz trains another model"
    run 0 eval --model c.nbm --data blobs.csv
    mv out e1.txt
    run 0 eval --model c.nbm --data blobs.csv.gz
    sed 's/blobs\.csv\.gz/blobs.csv/g' out | cmp - e1.txt || fail "eval on .csv.gz differs"
    "$NABLAS" predict --model c.nbm --data - --out - <blobs.csv.gz >s.csv 2>err ||
        { cat err; fail "gzip on --data -"; }
    cmp ref.csv s.csv || fail "gzip through --data - differs"
    size=$(stat -c %s blobs.csv.gz)
    head -c $((size / 2)) blobs.csv.gz >cut.csv.gz
    run 1 predict --model c.nbm --data cut.csv.gz --out x.csv
    has err "nablas predict: cut.csv.gz: truncated gzip data: the file ends inside the compressed stream"
    one_line
    [ ! -e x.csv ] || fail "a truncated input wrote output"
    head -c 64M /dev/zero | gzip -1 >bomb.csv.gz # 64 KiB that inflate to 64 MiB of zeros
    run 1 predict --model c.nbm --data bomb.csv.gz --out x.csv
    has err "bomb.csv.gz: a NUL byte at offset 0 of the decompressed data: binary data, not text"
    one_line
    ;;
refused) # what cannot be stdin or stdout says so, on one line, before any work
    model
    run 2 predict --model - --data blobs.csv --out x.csv
    has err "a model is read from a file, not from standard input (-)"
    one_line
    run 2 train --data blobs.csv --label-column species --layers 3 --out -
    has err "--out -: standard output takes only data (predict --out); this is written to a file"
    one_line
    [ ! -e ./- ] || fail "a file named - was written"
    run 2 train --data blobs.csv --label-column species --layers 3 --resume - --out m.nbm
    has err "--resume -: a checkpoint is read from a file, not from standard input"
    one_line
    run 2 train --data blobs.csv --label-column species --layers 3 --out m.nbm --plot -
    has err "--plot -: standard output takes only data"
    run 2 predict --model c.nbm --data blobs.csv --out - --jacobian -
    has err "name the same file"
    run 2 predict --model c.nbm --data x.npy --targets - --out x.csv
    has err "--targets -: only --data reads standard input"
    ;;
*)
    fail "unknown case"
    ;;
esac
