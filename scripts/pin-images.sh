#!/usr/bin/env bash
# Re-pins every base/runtime image scope ships to the digest its tag points at now.
#   scripts/pin-images.sh           resolve each image:tag@sha256:… in the files below and rewrite the digest
#   scripts/pin-images.sh --check   fail if any image is unpinned or still carries the all-zero placeholder
# Needs `docker buildx` and registry access (resolving only; nothing is pulled). Review the diff and commit it.
# The scope image itself is pinned in deploy/kubernetes/kustomization.yaml to the digest your build pushed.
set -euo pipefail
cd "$(dirname "$0")/.."
files=(Dockerfile docker-compose.yml)
zero=sha256:0000000000000000000000000000000000000000000000000000000000000000
refs=$(grep -hoE '[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}' "${files[@]}" | sort -u)
if [ "${1:-}" = "--check" ]; then
  status=0
  if grep -nE '^\s*(ARG NODE_IMAGE=|image:)' "${files[@]}" | grep -vE '@sha256:[0-9a-f]{64}|image: scope:local'; then
    echo "pin-images: the images above are not pinned by digest" >&2; status=1
  fi
  if grep -n "$zero" "${files[@]}" deploy/kubernetes/kustomization.yaml; then
    echo "pin-images: placeholder digests above: run scripts/pin-images.sh (and set the scope image digest)" >&2; status=1
  fi
  exit $status
fi
for ref in $refs; do
  tag=${ref%@*}
  digest=$(docker buildx imagetools inspect "$tag" --format '{{json .Manifest}}' | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const d = JSON.parse(s).digest;
      if (!/^sha256:[0-9a-f]{64}$/.test(d)) { console.error(`no digest for ${process.argv[1]}`); process.exit(1); }
      console.log(d);
    });' "$tag")
  echo "$tag -> $digest"
  sed -i "s|${tag}@sha256:[0-9a-f]\{64\}|${tag}@${digest}|g" "${files[@]}"
done
