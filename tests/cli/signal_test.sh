#!/bin/bash
# Ctrl-C (SIGINT) and SIGTERM during `nablas train`: the run ends at the end of the current
# epoch with one line on stderr (how to resume it, or that it is lost), no model, exit 128 +
# the signal; a second signal ends the process at once.  Run by meson test with $NABLAS,
# $PYTHON and $SRC set, as cli_test.sh.  Usage: signal_test.sh CASE
. "$(dirname "$0")/harness.sh"
blobs() { "$PYTHON" "$SRC/tools/make_blobs.py" --rows "${2:-300}" --features "${3:-4}" "$1"; }

# start_bg ARGS...: nablas in the background (pid in $pid, output in out/err), and a watchdog
# that kills it after 100 s so that no case can hang.
start_bg() {
    "$NABLAS" "$@" >out 2>err &
    pid=$!
    ( trap 'kill "$nap" 2>/dev/null; exit 0' TERM
      sleep 100 & nap=$!
      wait "$nap" && kill -KILL "$pid" 2>/dev/null ) >/dev/null 2>&1 &
    watchdog=$!
}
# wait_for PATTERN: until out has a line matching PATTERN (at most 60 s) or nablas ended.
wait_for() {
    for _ in $(seq 6000); do
        grep -q "$1" out && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.01
    done
    cat out err >&2
    fail "no '$1' in the output"
}
# finish_bg: waits for nablas; its exit status in $got.
finish_bg() {
    wait "$pid"
    got=$?
    kill "$watchdog" 2>/dev/null
    wait "$watchdog" 2>/dev/null
    [ "$got" -ne 137 ] || fail "nablas was killed by the watchdog"
}
no_leftovers() {
    [ ! -e "$1" ] || fail "the interrupted run wrote a model ($1)"
    ! ls nablas-tmp-* 2>/dev/null || fail "a temporary file was left"
}

case $case_name in
sigint_resume) # Ctrl-C, the message, then the printed command resumes to the same bytes
    blobs "it's blobs.csv" # a quote and a space: the printed command must quote them
    opts=(--data "it's blobs.csv" --label-column species --layers 8:relu,3 --epochs 400
          --batch 32 --optimizer sgd --momentum 0.9 --lr 0.01 --seed 7 --standardize)
    run 0 train "${opts[@]}" --out full.nbm
    start_bg train "${opts[@]}" --checkpoint ck.nbc --out m.nbm
    wait_for '^epoch *2/'
    kill -INT "$pid"
    finish_bg
    [ "$got" -eq 130 ] || { cat out err; fail "the interrupted run exited $got, not 130"; }
    one_line
    has err "nablas train: interrupted after epoch "
    has err " of 400; no model written; resume with: nablas train --data 'it'\''s blobs.csv' "
    has err " --checkpoint ck.nbc --out m.nbm --resume ck.nbc"
    no_leftovers m.nbm
    done_at=$(sed -n 's/.*interrupted after epoch \([0-9]*\) of.*/\1/p' err)
    [ "$done_at" -ge 2 ] && [ "$done_at" -lt 400 ] || fail "interrupted after epoch '$done_at'"
    cmd=$(sed -n 's/.*resume with: nablas //p' err)
    eval "\"\$NABLAS\" $cmd" >out 2>err || { cat out err; fail "the printed command failed"; }
    has out "resuming ck.nbc: $done_at of 400 epochs done"
    cmp full.nbm m.nbm || fail "the resumed run's model differs from the uninterrupted one"
    ;;
sigterm_lost) # SIGTERM without --checkpoint: the run is lost, and the message says what keeps it
    blobs b.csv
    start_bg train --data b.csv --label-column species --layers 8:relu,3 --epochs 100000 \
        --seed 1 --out m.nbm
    wait_for '^epoch *1/'
    kill -TERM "$pid"
    finish_bg
    [ "$got" -eq 143 ] || { cat out err; fail "SIGTERM: exited $got, not 143"; }
    one_line
    has err "of 100000; no model written; the run is lost: --checkpoint FILE would have kept it for --resume"
    no_leftovers m.nbm
    ;;
second_sigint) # a second Ctrl-C ends the process at once, inside a long epoch, without a word
    blobs big.csv 50000 32 # an epoch of seconds: both signals land inside the first one
    start_bg train --data big.csv --label-column species --layers 512:relu,512:relu,3 \
        --batch 8 --epochs 1000 --seed 1 --checkpoint ck.nbc --out m.nbm
    wait_for '^training '
    sleep 0.3
    kill -INT "$pid"
    sleep 0.2
    kill -INT "$pid"
    finish_bg
    [ "$got" -eq 130 ] || { cat out err; fail "two Ctrl-C: exited $got, not 130"; }
    ! grep -q "interrupted after" err || { cat err; fail "the second Ctrl-C waited for the epoch"; }
    no_leftovers m.nbm
    ;;
*)
    fail "unknown case"
    ;;
esac
