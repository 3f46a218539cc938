# Sourced by ./run and .ci/run: puts a Node.js >= 22 on PATH.
# The project targets Node 24 LTS. When the system Node is older than 22 (this machine ships 20),
# install the pinned official Node 24 binary from the npm registry (package node-linux-<arch>, a plain
# binary with no install script) into a cache folder and put it first on PATH.
SCOPE_NODE_VERSION="${SCOPE_NODE_VERSION:-24.21.0}"

scope_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(scope_node_major)" -lt 22 ]; then
  case "$(uname -m)" in
    x86_64) scope_arch=x64 ;;
    aarch64|arm64) scope_arch=arm64 ;;
    *) echo "scope: no prebuilt Node for $(uname -m); install Node >= 22 yourself" >&2; return 1 ;;
  esac
  scope_node_dir="${SCOPE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scope}/node-${SCOPE_NODE_VERSION}-${scope_arch}"
  scope_node_bin="$scope_node_dir/node_modules/node-linux-${scope_arch}/bin"
  if [ ! -x "$scope_node_bin/node" ]; then
    echo "scope: system Node is $(node --version 2>/dev/null || echo absent); installing Node ${SCOPE_NODE_VERSION} into $scope_node_dir" >&2
    mkdir -p "$scope_node_dir"
    npm install --silent --no-save --no-package-lock --ignore-scripts --prefix "$scope_node_dir" \
      "node-linux-${scope_arch}@${SCOPE_NODE_VERSION}" >&2 || { echo "scope: Node bootstrap failed" >&2; return 1; }
  fi
  export PATH="$scope_node_bin:$PATH"
fi

# msgpackr (pulled by BullMQ) would load the prebuilt native addon of its optional @msgpackr-extract packages;
# keep development on the same pure-JS path as the production image (see docs/SECURITY.md).
export MSGPACKR_NATIVE_ACCELERATION_DISABLED=true
