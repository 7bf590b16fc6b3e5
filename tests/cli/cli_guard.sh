#!/bin/bash
# End-to-end cases of the output and checkpoint guards: names escaped in the checkpoint's note,
# outputs re-checked at save time (a link swapped during the run), the sticky-directory rule for
# links, outputs that cannot be files refused before training, the reason of a failed write,
# --resume of a directory.  Run by meson test with $NABLAS, $PYTHON and $SRC set.
# Usage: cli_guard.sh CASE
. "$(dirname "$0")/harness.sh"
skip() { echo "SKIP ($case_name): $*"; exit 77; }
blobs() { "$PYTHON" "$SRC/tools/make_blobs.py" --rows 300 "${1:-blobs.csv}" >/dev/null; }
train_args=(train --data blobs.csv --label-column species --layers 8:relu,3 --batch 16 --lr 0.05
            --seed 3)

case $case_name in
note_escape)
    # a quoted column name holding a newline and an option line, and one with a backslash,
    # a tab and a control byte: the checkpoint's note keeps each on its own line, escaped, and
    # the run resumes
    printf 'a,b,"y\n--lr 5"\n' >d.csv
    for i in $(seq 1 40); do echo "$i,$((i % 3)),$((i % 2))" >>d.csv; done
    run 0 train --data d.csv --label-column 2 --layers 4,2 --epochs 2 --checkpoint c.ck --out m.nbm
    run 0 train --data d.csv --label-column 2 --layers 4,2 --epochs 4 --resume c.ck --out m2.nbm
    has out "resuming c.ck: 2 of 4 epochs done"
    run 0 info c.ck
    has out 'train options  --label-column y\n--lr 5'
    [ "$(grep -c '^\(train options\| \{15\}\)--lr ' out)" -eq 1 ] \
        || { cat out; fail "not one --lr line in the note: the name started one of its own"; }
    printf 'a,b,"t\\a\tb\001"\n' >e.csv
    for i in $(seq 1 40); do echo "$i,$((i % 3)),$((i % 2))" >>e.csv; done
    run 0 train --data e.csv --label-column 2 --layers 4,2 --epochs 1 --checkpoint e.ck --out e.nbm
    run 0 info e.ck
    has out 'train options  --label-column t\\a\tb\x01'
    run 0 train --data e.csv --label-column 2 --layers 4,2 --epochs 2 --resume e.ck --out e2.nbm
    has out "resuming e.ck: 1 of 2 epochs done"
    # another label column is still named as the difference, escaped
    run 2 train --data e.csv --label-column 1 --layers 4,3 --epochs 2 --resume e.ck --out e3.nbm
    has err '--label-column differs (checkpoint t\\a\tb\x01, now b)'
    ;;
swapped_link)
    # --checkpoint and --out are links to new files; after the first checkpoint the run is
    # stopped, the links are pointed at the data, and the run goes on: the next save refuses
    # to replace the data (exit 1, the data intact) instead of writing over it
    blobs
    cp blobs.csv keep.csv
    for which in checkpoint out; do
        rm -f ck.real out.real ck.lnk out.lnk
        ln -s ck.real ck.lnk
        ln -s out.real out.lnk
        epochs=400
        [ "$which" = out ] && epochs=150
        "$NABLAS" "${train_args[@]}" --epochs "$epochs" --checkpoint ck.lnk --out out.lnk \
            >out 2>err &
        pid=$!
        for _ in $(seq 1 400); do [ -s ck.real ] && break; sleep 0.05; done
        kill -STOP "$pid" 2>/dev/null || { cat out err; fail "the run ended before it could be stopped"; }
        [ -s ck.real ] || { kill -KILL "$pid"; fail "no first checkpoint"; }
        if [ "$which" = checkpoint ]; then ln -sfn blobs.csv ck.lnk; else ln -sfn blobs.csv out.lnk; fi
        kill -CONT "$pid"
        for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid"; st=$?
        cmp -s blobs.csv keep.csv || { cp keep.csv blobs.csv; fail "--$which: the data were overwritten through the swapped link"; }
        [ "$st" -eq 1 ] || { cat out err; fail "--$which swapped: exit $st, not 1"; }
        lnk=ck.lnk
        [ "$which" = out ] && lnk=out.lnk
        has err "--$which $lnk: it now leads to the input blobs.csv"
        has err "refusing to overwrite an input"
        ls nablas-tmp-* >/dev/null 2>&1 && fail "a temporary file was left"
    done
    [ ! -e out.real ] || fail "--out swapped: a model was written somewhere"
    ;;
sticky_link)
    # the kernel's fs.protected_symlinks rule, applied by nablas to the links it follows
    # itself: in a sticky, world-writable directory a link owned by another user (neither
    # the process's nor the directory's owner) is not followed; the process's own links and
    # links of the directory's owner are
    [ "$(id -u)" -eq 0 ] || skip "needs root to give a link to another user (chown -h)"
    id nobody >/dev/null 2>&1 || skip "no user nobody"
    blobs
    mkdir sticky && chmod 1777 sticky
    ln -s ../victim.nbm sticky/theirs && chown -h nobody sticky/theirs
    echo "victim" >victim.nbm
    run 2 "${train_args[@]}" --epochs 1 --out sticky/theirs
    has err "--out sticky/theirs: sticky/theirs is a symbolic link of another user in a sticky, world-writable directory: not followed"
    [ "$(cat victim.nbm)" = victim ] || fail "written through another user's link"
    ! grep -q "^training" out || fail "trained before refusing"
    run 2 "${train_args[@]}" --epochs 1 --out m.nbm --checkpoint sticky/theirs
    has err "--checkpoint sticky/theirs: sticky/theirs is a symbolic link of another user"
    # a chain: our link to their link
    ln -s sticky/theirs ours
    run 2 "${train_args[@]}" --epochs 1 --out ours
    has err "symbolic link of another user in a sticky, world-writable directory"
    # our own link in the same directory, and a link of the directory's owner: followed
    ln -s ../mine.nbm sticky/mine
    run 0 "${train_args[@]}" --epochs 1 --out sticky/mine
    [ -L sticky/mine ] && [ -s mine.nbm ] || fail "our own link was not followed"
    mkdir owned && chmod 1777 owned && chown nobody owned
    ln -s ../owner.nbm owned/link && chown -h nobody owned/link
    run 0 "${train_args[@]}" --epochs 1 --out owned/link
    [ -s owner.nbm ] || fail "the directory owner's link was not followed"
    # not sticky, or not world-writable: the rule does not apply
    mkdir plain && chmod 0777 plain
    ln -s ../plain.nbm plain/link && chown -h nobody plain/link
    run 0 "${train_args[@]}" --epochs 1 --out plain/link
    [ -s plain.nbm ] || fail "a link in a non-sticky directory was not followed"
    # predict, export and import apply it too
    run 2 predict --model m.nbm --data blobs.csv --out sticky/theirs
    has err "symbolic link of another user"
    run 2 export m.nbm sticky/theirs
    has err "symbolic link of another user"
    [ "$(cat victim.nbm)" = victim ] || fail "written through another user's link"
    ;;
not_files)
    # outputs no file can be written to are refused before training, not after it
    blobs
    for o in /sys/nablas-out.nbm /proc/nablas-out.nbm /proc/self/nablas-out.nbm; do
        "$NABLAS" "${train_args[@]}" --epochs 1 --out "$o" >out 2>err; st=$?
        [ "$st" -ne 0 ] || fail "--out $o: exit 0"
        ! grep -q "^training" out || { cat out err; fail "--out $o: trained before refusing"; }
        has err "--out $o: cannot create files in"
    done
    "$NABLAS" "${train_args[@]}" --epochs 1 --out /dev/stdout 2>err | cat >piped; st=${PIPESTATUS[0]}
    [ "$st" -eq 2 ] || { cat piped err; fail "--out /dev/stdout | cat: exit $st, not 2"; }
    has err "--out /dev/stdout: a FIFO; nablas writes only to a regular file or a new path"
    ! grep -q "^training" piped || fail "--out /dev/stdout | cat: trained before refusing"
    run 1 "${train_args[@]}" --epochs 1 --out m.nbm --plot /proc/self/c.svg
    has err "--plot /proc/self/c.svg: cannot create files in /proc/self"
    ;;
export_full)
    # a write that fails says why (no space left on the device)
    blobs
    run 0 train --data blobs.csv --label-column species --layers 256:relu,64:relu,3 --epochs 1 \
        --out big.nbm
    [ "$(id -u)" -eq 0 ] || skip "needs root to mount a small tmpfs"
    mkdir full
    mount -t tmpfs -o size=16k tmpfs full 2>/dev/null || skip "cannot mount a tmpfs here"
    "$NABLAS" export big.nbm full/big.safetensors >out 2>err; st=$?
    left=$(ls full)
    umount full
    [ "$st" -eq 1 ] || { cat out err; fail "export to a full disk: exit $st"; }
    has err "cannot write full/big.safetensors: No space left on device"
    [ -z "$left" ] || fail "files left on the full disk: $left"
    ;;
resume_dir)
    blobs
    mkdir ck.d
    run 1 "${train_args[@]}" --epochs 2 --resume ck.d --out m.nbm
    has err "--resume ck.d: cannot read it: Is a directory"
    ;;
*)
    fail "unknown case"
    ;;
esac
echo "ok ($case_name)"
