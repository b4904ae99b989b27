#!/usr/bin/env bash
# Re-vendor the precompiled GOV.UK Frontend into static/govuk-frontend/.
#
# Usage: scripts/fetch_govuk_frontend.sh [VERSION]
#   VERSION defaults to the one recorded in static/govuk-frontend/VERSION.
#
# The version must match what the installed govuk-frontend-jinja targets (its
# macros emit markup for one exact GOV.UK Frontend release): bump both together
# and read docs/frontend.md first.
#
# Only the built files the pages load are kept: the minified CSS and JS and
# the assets/ folder (fonts, images, manifest). Sass, component sources and
# sourcemaps stay out of the repository; the sourceMappingURL comments are
# removed so browsers do not request maps we do not serve.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$root/static/govuk-frontend"
version="${1:-$(tr -d '[:space:]' < "$target/VERSION")}"

if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "Expected a version like 6.3.0, got '$version'" >&2
    exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# npm checks the tarball against the registry's integrity hash.
(cd "$work" && npm pack --silent "govuk-frontend@$version" > /dev/null)
tar -xzf "$work/govuk-frontend-$version.tgz" -C "$work"
dist="$work/package/dist/govuk"

packed_version="$(node -p "require('$work/package/package.json').version")"
if [[ "$packed_version" != "$version" ]]; then
    echo "npm returned govuk-frontend $packed_version, not $version" >&2
    exit 1
fi

rm -rf "$target"
mkdir -p "$target"
cp "$dist/govuk-frontend.min.css" "$dist/govuk-frontend.min.js" "$target/"
cp -R "$dist/assets" "$target/assets"
sed -i -e 's|/\*# sourceMappingURL=[^*]*\*/||' "$target/govuk-frontend.min.css"
sed -i -e 's|//# sourceMappingURL=.*$||' "$target/govuk-frontend.min.js"
# Executable bits on the fonts in the tarball are an accident upstream.
find "$target" -type f -exec chmod 0644 {} +
echo "$version" > "$target/VERSION"

echo "Vendored govuk-frontend $version into ${target#"$root"/} ($(du -sh "$target" | cut -f1))"
