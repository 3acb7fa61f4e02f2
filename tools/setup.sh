#!/usr/bin/env bash
# Set-up for a fresh machine: system libraries, npm packages, the SIGNS data.
# Safe to run again: every step checks first and does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages (Debian): oneDNN for the native convolution kernels, Jupyter's Python client
# libraries for executing notebooks headless, h5py, the independent reader the Keras file tests
# check this project's files with, and Mesa's Vulkan drivers, whose software adapter (llvmpipe) the
# WebGPU tests run on where there is no GPU. Optional: without oneDNN the WebAssembly backend is
# used; the library and notebooks opened in an editor need neither Jupyter's libraries nor h5py;
# without a Vulkan driver only the WebGPU tests fail, saying that no adapter was found.
source tools/_debian.sh
mapfile -t missing < <(missing_packages libdnnl2 python3-nbclient python3-jupyter-client jupyter-nbconvert python3-h5py mesa-vulkan-drivers)
if ((${#missing[@]})) && ! install_packages setup "${missing[@]}"; then
  echo "setup: not installed (optional; ask an administrator): ${missing[*]}"
fi

# npm and JSR packages, exactly as pinned in deno.lock.
deno install --frozen

# The SIGNS data: copied from ../shared/datasets when missing, then verified.
deno run --allow-read --allow-write --allow-env=SIGNS_DATA_SOURCE tools/prepare_datasets.ts
