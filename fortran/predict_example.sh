#!/bin/sh
# docs/fortran.md's predictor example as written: a small three-colour CSV, `nablas train` on it,
# then examples/fortran_predict.f90 on the model; each centre must get its own colour.
# Usage: predict_example.sh NABLAS FORTRAN_PREDICT WORKDIR
set -eu
# meson passes the programs relative to the directory the test starts in
nablas=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
example=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
dir=$3/predict_example
mkdir -p "$dir"
cd "$dir"
awk 'BEGIN { print "a,b,colour"
  split("red green blue", name, " "); cx[1] = 0; cy[1] = 0; cx[2] = 4; cy[2] = 1; cx[3] = 1; cy[3] = 4
  for (i = 0; i < 300; i++) { k = i % 3 + 1
    printf "%.4f,%.4f,%s\n", cx[k] + 0.8 * sin(1.7 * i), cy[k] + 0.8 * cos(2.3 * i), name[k] } }' >colours.csv
"$nablas" train --data colours.csv --label-column colour --layers 16:tanh,3 --standardize \
  --epochs 40 --seed 1 --out colours.nbm >train.log 2>&1 || { cat train.log; exit 1; }
"$example" colours.nbm >predict.out
cat predict.out
grep -q 'x =  0.0  0.0  class red ' predict.out
grep -q 'x =  4.0  1.0  class green ' predict.out
grep -q 'x =  1.0  4.0  class blue ' predict.out
echo "fortran_predict: each centre gets its colour"
