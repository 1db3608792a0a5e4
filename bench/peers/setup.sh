#!/usr/bin/env bash
# Create (or bring up to date) bench/peers/.venv: RecBole 1.2.1 for the peer
# benchmark, kept apart from TailGraph's own environment. Idempotent: re-running
# only installs what is missing or pinned differently.
#
#   bash bench/peers/setup.sh            # PYTHON=python3.11 bash ... to choose the interpreter
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
stamp="$venv/.peers-requirements.sha256"

if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

want="$(cat "$here/requirements.txt" "$0" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "bench/peers/.venv is up to date"
    exit 0
fi

# torch first and exactly pinned: this resolves to the CPU wheel already on
# these machines; a looser pin (or letting recbole pull torch) fetches GBs of CUDA.
"${pip[@]}" install "torch==2.13.0"
# RecBole's runtime dependencies, pinned to versions 1.2.1 still works with.
"${pip[@]}" install -r "$here/requirements.txt"
# RecBole itself without its declared dependencies: they would add ray<=2.6.3,
# tensorboard, thop and plotly, which the peer runs never import (README.md).
"${pip[@]}" install --no-deps "recbole==1.2.1"

# Smoke check: the three peer models import with our stand-ins (recbole_shims.py).
(cd "$here" && "$venv/bin/python" -c "
from recbole_shims import install_shims
install_shims()
import recbole.config, recbole.data, recbole.trainer
from recbole.utils import get_model
for name in ('LightGCN', 'KGAT', 'KGIN'):
    get_model(name)
import recbole, torch, numpy, scipy, pandas
print('recbole', recbole.__version__, 'torch', torch.__version__, 'numpy', numpy.__version__,
      'scipy', scipy.__version__, 'pandas', pandas.__version__)
")
echo "$want" > "$stamp"
