# Sourced by the scripts: make sure .venv exists and matches scripts/dev.lock and pyproject.toml.
# First use (or after either file changes) builds it; otherwise this costs a hash of two small files.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BATCHES_EXT_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
want="$(cat "$ROOT/scripts/dev.lock" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$PY" ] || [ "$(cat "$VENV/.batches-ext-stamp" 2>/dev/null)" != "$want" ]; then
  base="${PYTHON:-python3}"
  if ! "$base" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "batches-ext needs Python 3.11 or newer; '$base' is $("$base" --version 2>&1). Set PYTHON=/path/to/python3.11+." >&2
    exit 2
  fi
  echo "Setting up $VENV from scripts/dev.lock (first run or the lock changed)..." >&2
  "$base" -m venv --clear "$VENV"
  pip_quiet=(--quiet --disable-pip-version-check --no-input)
  "$PY" -m pip install "${pip_quiet[@]}" -r "$ROOT/scripts/dev.lock"
  # --no-build-isolation: hatchling comes from the lock, so the editable install needs no network.
  "$PY" -m pip install "${pip_quiet[@]}" --no-deps --no-build-isolation -e "$ROOT"
  echo "$want" > "$VENV/.batches-ext-stamp"
fi
export PATH="$VENV/bin:$PATH"
export PYTHONPATH="$ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}"  # the package devtools behind the scripts
cd "$ROOT"
