#!/usr/bin/env bash
# Rebuild static/govuk-frontend/ from GOV.UK Frontend's Sass source, for a
# service that is not on GOV.UK: Arial instead of the GDS Transport typeface
# (licensed for GOV.UK only), and the council's own icons instead of the crown.
# Also rebuilds static/moj-frontend/, the back office's MOJ Frontend components,
# compiled against the same GOV.UK Frontend and settings.
#
# Usage: scripts/fetch_govuk_frontend.sh [GOVUK_FRONTEND_VERSION [SASS_VERSION [MOJ_FRONTEND_VERSION]]]
#   With no argument, rebuilds from the versions pinned in
#   scripts/build_govuk_frontend/package.json and package-lock.json.
#   With versions, first re-pins those two files to them (exact versions),
#   then rebuilds. An empty argument ("") leaves that package's pin alone.
#
# Needs node, npm (and the npm registry) and python3; the app itself does not:
# the output is committed. The GOV.UK Frontend version must match what the
# installed govuk-frontend-jinja targets (its macros emit markup for one exact
# release): bump both together and read docs/frontend.md first.
#
# Output, replacing static/govuk-frontend/ whole:
#   govuk-frontend.min.css  compiled by dart-sass (npm "sass") from
#                           scripts/build_govuk_frontend/govuk-frontend.scss
#   govuk-frontend.min.js   the package's precompiled ES module, as shipped
#   assets/images/          only the images the compiled CSS refers to, plus
#                           the council icons from make_icons.py
#   assets/manifest.json    from make_icons.py
#   VERSION                 line 1: the govuk-frontend version; line 2: sass
#
# and, replacing static/moj-frontend/ whole (linked by the back office only):
#   moj-frontend.min.css    compiled from scripts/build_govuk_frontend/moj-frontend.scss:
#                           only the MOJ components the back office uses, loaded
#                           after govuk-frontend.min.css
#   moj-frontend.min.js     the package's precompiled ES module, as shipped
#   assets/images/          only the images moj-frontend.min.css refers to
#   VERSION                 line 1: @ministryofjustice/frontend; line 2:
#                           govuk-frontend; line 3: sass
# No fonts, no Sass sources, no sourcemaps.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/scripts/build_govuk_frontend"
target="$root/static/govuk-frontend"
moj_target="$root/static/moj-frontend"
npm_flags=(--ignore-scripts --no-audit --no-fund --loglevel=error)

semver='^[0-9]+\.[0-9]+\.[0-9]+$'
if [[ $# -gt 3 ]]; then
    echo "Usage: $0 [GOVUK_FRONTEND_VERSION [SASS_VERSION [MOJ_FRONTEND_VERSION]]]" >&2
    exit 2
fi
if [[ $# -gt 0 ]]; then
    specs=()
    for pair in "govuk-frontend:${1:-}" "sass:${2:-}" "@ministryofjustice/frontend:${3:-}"; do
        name="${pair%%:*}" wanted="${pair#*:}"
        [[ -z "$wanted" ]] && continue
        if [[ ! "$wanted" =~ $semver ]]; then
            echo "Expected a $name version like 1.2.3, got '$wanted'" >&2
            exit 2
        fi
        specs+=("$name@$wanted")
    done
    if [[ ${#specs[@]} -eq 0 ]]; then
        echo "Give at least one version to pin" >&2
        exit 2
    fi
    echo "Pinning ${specs[*]} in ${build#"$root"/}"
    # Rewrites package.json and package-lock.json only: no node_modules here.
    (cd "$build" && npm install --package-lock-only --save-exact "${npm_flags[@]}" "${specs[@]}")
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# npm ci installs exactly what the lockfile says and checks every tarball
# against its integrity hash. sass's optional file watcher (a native addon) is
# not needed to compile. MOJ Frontend's peer dependencies are installed too
# (npm checks govuk-frontend is in its range; moment is for its Nunjucks
# filters, which we do not use, and none of it is copied out).
cp "$build/package.json" "$build/package-lock.json" "$build/govuk-frontend.scss" \
    "$build/moj-frontend.scss" "$work/"
(cd "$work" && npm ci --omit=optional "${npm_flags[@]}")

installed_version() { node -p "require('$work/node_modules/$1/package.json').version"; }
pinned_version() { node -p "require('$build/package.json').dependencies['$1']"; }
gf_version="$(installed_version govuk-frontend)"
sass_version="$(installed_version sass)"
moj_version="$(installed_version @ministryofjustice/frontend)"
for name in govuk-frontend sass @ministryofjustice/frontend; do
    if [[ "$(installed_version "$name")" != "$(pinned_version "$name")" ]]; then
        echo "npm installed $name $(installed_version "$name"), package.json pins $(pinned_version "$name")" >&2
        exit 1
    fi
done

dist="$work/node_modules/govuk-frontend/dist/govuk"
out="$work/out"
mkdir -p "$out/assets"

"$work/node_modules/.bin/sass" --no-source-map --style=compressed \
    --load-path="$work/node_modules" \
    "$work/govuk-frontend.scss" "$out/govuk-frontend.min.css"
css="$out/govuk-frontend.min.css"

if grep -q -e 'GDS Transport' -e '@font-face' -e 'sourceMappingURL' "$css"; then
    echo "The compiled CSS still mentions GDS Transport, @font-face or a sourcemap" >&2
    exit 1
fi

# Keep exactly the assets the CSS refers to (today only the crest that
# .govuk-footer__copyright-logo uses), copied from the same package.
grep -o 'url([^)]*)' "$css" | sed -E 's/^url\(["'\'']?//; s/["'\'']?\)$//' | sort -u |
    while read -r url; do
        case "$url" in
            data:*) continue ;;
            /assets/*) relative="${url#/assets/}" ;;
            *) echo "Unexpected url($url) in the compiled CSS" >&2; exit 1 ;;
        esac
        mkdir -p "$(dirname "$out/assets/$relative")"
        cp "$dist/assets/$relative" "$out/assets/$relative"
    done

cp "$dist/govuk-frontend.min.js" "$out/"
sed -i -e 's|//# sourceMappingURL=.*$||' "$out/govuk-frontend.min.js"

"${PYTHON:-python3}" "$build/make_icons.py" "$out/assets" > /dev/null

printf '%s\nsass %s\n' "$gf_version" "$sass_version" > "$out/VERSION"
find "$out" -type d -exec chmod 0755 {} +
find "$out" -type f -exec chmod 0644 {} +

# MOJ Frontend: its Sass reaches GOV.UK Frontend's as
# "node_modules/govuk-frontend/...", so the work directory is a load path too.
moj_dist="$work/node_modules/@ministryofjustice/frontend/moj"
moj_out="$work/moj-out"
moj_css="$moj_out/moj-frontend.min.css"
mkdir -p "$moj_out/assets"

"$work/node_modules/.bin/sass" --no-source-map --style=compressed \
    --load-path="$work/node_modules" --load-path="$work" \
    "$work/moj-frontend.scss" "$moj_css"

if grep -q -e 'GDS Transport' -e '@font-face' -e 'sourceMappingURL' "$moj_css"; then
    echo "The compiled MOJ CSS still mentions GDS Transport, @font-face or a sourcemap" >&2
    exit 1
fi

# moj-frontend.scss sets $moj-assets-path to "assets/": relative to the
# stylesheet, so /static/moj-frontend/assets/ (Flask's static route).
grep -o 'url([^)]*)' "$moj_css" | sed -E 's/^url\(["'\'']?//; s/["'\'']?\)$//' | sort -u |
    while read -r url; do
        case "$url" in
            data:*) continue ;;
            assets/*) relative="${url#assets/}" ;;
            *) echo "Unexpected url($url) in the compiled MOJ CSS" >&2; exit 1 ;;
        esac
        mkdir -p "$(dirname "$moj_out/assets/$relative")"
        cp "$moj_dist/assets/$relative" "$moj_out/assets/$relative"
    done

cp "$moj_dist/moj-frontend.min.js" "$moj_out/"
sed -i -e 's|//# sourceMappingURL=.*$||' "$moj_out/moj-frontend.min.js"

printf '%s\ngovuk-frontend %s\nsass %s\n' "$moj_version" "$gf_version" "$sass_version" > "$moj_out/VERSION"
find "$moj_out" -type d -exec chmod 0755 {} +
find "$moj_out" -type f -exec chmod 0644 {} +

rm -rf "$target" "$moj_target"
mv "$out" "$target"
mv "$moj_out" "$moj_target"

echo "Built govuk-frontend $gf_version with sass $sass_version into ${target#"$root"/} ($(du -sh "$target" | cut -f1))"
echo "Built @ministryofjustice/frontend $moj_version into ${moj_target#"$root"/} ($(du -sh "$moj_target" | cut -f1))"
