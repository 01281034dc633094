#!/usr/bin/env bash
# The policy-gradient loop's GPU figures, in one run on a machine with CUDA (about 10 minutes at the defaults):
#   1. the CUDA tests: the batched simulators, and env, rollout and update together on the GPU;
#   2. our PPO alone on the GPU at 4k, 16k and 64k CartPole envs: training steps/s and time to solve;
#   3. time to solve CartPole, ours on the GPU (the preset's 128 envs) against SB3's zoo PPO (on the CPU).
# Usage: scripts/gpu-pg.sh [OUT_DIR]; from the environment: SEEDS (the comparison's, default 10-19),
# SIZE_SEEDS (each batch size's, default 10-12) and BUDGET_S (each run's, default 60).
set -euo pipefail
out="${1:-results/bench/gpu}"
seeds="${SEEDS:-10-19}"
size_seeds="${SIZE_SEEDS:-10-12}"
budget="${BUDGET_S:-60}"
mkdir -p "$out"

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.csv"
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'"
python -m pytest -q -p no:cacheprovider -k "cuda or gpu" tests/agents/pg tests/envs/classic | tee "$out/tests.txt"

for envs in 4096 16384 65536; do
  arena bench pg CartPole-v1 --device cuda --num-envs "$envs" --references none --seeds "$size_seeds" \
    --budget-s "$budget" --out "$out/cartpole-$envs-envs"
done
arena bench pg CartPole-v1 --device cuda --references zoo --seeds "$seeds" --budget-s "$budget" \
  --out "$out/cartpole-vs-sb3"
