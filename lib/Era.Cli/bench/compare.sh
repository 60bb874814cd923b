#!/usr/bin/env bash
# Side by side on the same machine: the PyTorch anchor (python3-torch 1.13), `./era bench` and
# `./era bench --engine torchsharp` (libtorch 2.10 through TorchSharp), same data, same number of batches of 128, same
# thread count; prints each one's ms per batch and peak resident memory, the ratio era/PyTorch (goal: <= 0.30), and
# the machine's measured FMA peak with the share of it era reaches (comparable between machines).
# Usage: lib/Era.Cli/bench/compare.sh [BATCHES=100] [THREADS=2] [MNIST_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
batches="${1:-100}"
threads="${2:-2}"
# shared/ sits beside the repository (../shared); from a worktree it may be further up.
shared="$root/../shared"
for d in "$root/.." "$root/../.." "$root/../../.."; do [ -d "$d/shared/anchors" ] && { shared="$d/shared"; break; }; done
data="${3:-${MNIST_DIR:-$shared/data/mnist}}"
anchor="$shared/anchors/pytorch_mnist.py"
# Both libtorch runs wait passively between OpenMP tasks (era bench --engine torchsharp sets this itself): spinning
# threads on shared cores made each of them 3-6x slower under load (PyTorch 1.13: 3.5 s a batch vs 0.6 s).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
[ -f "$anchor" ] || { echo "compare.sh: anchor $anchor not found" >&2; exit 2; }
[ -d "$data" ] || { echo "compare.sh: MNIST directory $data not found (pass it as the third argument or set MNIST_DIR)" >&2; exit 2; }

echo "== PyTorch: $anchor $data 1 $threads $batches"
# The anchor run as is, then its peak resident memory (ru_maxrss, KiB on Linux).
py="$(/usr/bin/python3 -c 'import resource, runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__"); print("peak_rss_mb %.0f" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))' "$anchor" "$data" 1 "$threads" "$batches")"
echo "$py"
py_ms="$(echo "$py" | awk '/^epoch/ { for (i = 1; i <= NF; i++) if ($i == "train_s") s = $(i + 1); n = substr($5, 2) } END { printf "%.2f", 1000 * s / n }')"

echo "== era: ./era bench --model reference --batches $batches --threads $threads --data $data"
era="$("$root/era" bench --model reference --batches "$batches" --threads "$threads" --data "$data")"
echo "$era"
era_ms="$(echo "$era" | awk '$1 == "train_ms_per_batch" { print $2 }')"

echo "== torchsharp: ./era bench --engine torchsharp --device cpu --model reference --batches $batches --threads $threads --data $data"
ts="$("$root/era" bench --engine torchsharp --device cpu --model reference --batches "$batches" --threads "$threads" --data "$data")"
echo "$ts"
ts_ms="$(echo "$ts" | awk '$1 == "train_ms_per_batch" { print $2 }')"

rss() { echo "$1" | awk '$1 == "peak_rss_mb" { print $2 }'; }
echo "pytorch_ms_per_batch $py_ms"
echo "era_ms_per_batch $era_ms"
echo "torchsharp_ms_per_batch $ts_ms"
echo "peak_rss_mb pytorch $(rss "$py") era $(rss "$era") torchsharp $(rss "$ts")"
awk -v a="$ts_ms" -v b="$py_ms" 'BEGIN { printf "ratio_torchsharp_over_pytorch %.3f\n", a / b }'
awk -v a="$era_ms" -v b="$py_ms" 'BEGIN { printf "ratio_era_over_pytorch %.3f\n", a / b }'
# The machine's measured FMA peak (era bench, at this thread count) and the share of it era's step reaches.
echo "$era" | awk '$1 ~ /^peak_gflops/ || $1 == "share_of_peak" { print "era_" $0 }'
