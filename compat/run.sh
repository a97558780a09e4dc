#!/usr/bin/env bash
# Compatibility check across the peer range, on the packed library in fresh apps outside the repo.
#
# For each version set of compat/versions.json (floor, newest): a fresh app in a temp dir gets the tarball,
# aws-cdk-lib / constructs / cdk-nag at that set's versions and the pinned aws-cdk CLI, a cdk.json with every
# feature flag that aws-cdk-lib recommends (as `cdk init` writes them), and the README's minimal example twice:
# app.ts (tsc, strict, skipLibCheck: false) and app.js (plain CommonJS). `cdk synth` (the real CLI) runs each,
# and compat/lib/check-assembly.cjs reads cdk.out: nothing unacknowledged from AwsSolutionsChecks or
# MicrovmChecks, and the handlers on the newest nodejs<N>.x runtime that aws-cdk-lib knows.
#
# usage: compat/run.sh [TARBALL | --build | --build=HEAD]
#   TARBALL       a packed cdk-lambda-microvms (npm pack, or jsii-pacmak's dist/js/*.jsii.tgz)
#   (nothing)     the single dist/js/*.tgz a `npx projen build` left (CI=true runs package:js)
#   --build       pack the working tree first, in a temp copy (bundle + jsii + npm pack): writes nothing in the repo
#   --build=HEAD  the same from the last commit (git archive)
# env: COMPAT_SETS="floor newest" (which sets, in order), COMPAT_KEEP=1 (keep the temp dirs and print where)
#
# Prints one line per (set x language), then `compat: N passed, M failed`; exits 1 on any failure,
# 2 when it could not run at all.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
versions="$here/versions.json"
started_all=$SECONDS

tmp_root="$(mktemp -d "${TMPDIR:-/tmp}/cdk-lambda-microvms-compat.XXXXXX")"
cleanup() {
  if [ "${COMPAT_KEEP:-}" = 1 ]; then echo "compat: kept $tmp_root"; else rm -rf "$tmp_root"; fi
}
trap cleanup EXIT

die() { echo "compat: $*" >&2; echo "compat: 0 passed, 1 failed"; exit 2; }
# elapsed seconds of a phase, for the timing lines
phase_start() { phase_t0=$SECONDS; }
phase_end() { timings+=("$(printf '%-28s %4ss' "$1" $((SECONDS - phase_t0)))"); }
timings=()

# Packs the library from a temp copy of the working tree (or HEAD): the steps of the projen `bundle` and `compile`
# tasks, read from .projen/tasks.json so they stay in sync, then npm pack. The copy borrows the repo's node_modules.
build_tarball() {
  # every step says `|| return 1`: set -e does not apply inside a function called from `... || die`.
  local from="$1" src="$tmp_root/src"
  mkdir -p "$src" "$tmp_root/pack" || return 1
  git -C "$repo" rev-parse --git-dir >/dev/null || return 1
  if [ "$from" = HEAD ]; then
    git -C "$repo" archive --format=tar HEAD | tar -x -C "$src" || return 1
  else
    (cd "$repo" && git ls-files -z -c -o --exclude-standard --deduplicate |
      while IFS= read -r -d '' f; do if [ -e "$f" ]; then printf '%s\0' "$f"; fi; done |
      tar --null -T - -cf -) | tar -x -C "$src" || return 1
  fi
  [ -d "$repo/node_modules" ] || { echo "compat: no node_modules in the repo: run npm ci first" >&2; return 1; }
  ln -s "$repo/node_modules" "$src/node_modules" || return 1
  (cd "$src" && PATH="$src/node_modules/.bin:$PATH" node -e '
    const { execFileSync } = require("child_process");
    const tasks = require("./.projen/tasks.json").tasks;
    const run = (name) => {
      for (const step of tasks[name].steps ?? []) {
        if (step.spawn) run(step.spawn);
        else if (step.execArgs) execFileSync(step.execArgs[0], step.execArgs.slice(1), { stdio: "inherit" });
        else if (step.exec) execFileSync("sh", ["-c", step.exec], { stdio: "inherit" });
      }
    };
    for (const name of ["bundle", "compile"]) { console.log(`compat: projen task ${name} (steps from .projen/tasks.json)`); run(name); }
  ') >&2 || return 1
  (cd "$src" && npm pack --silent --pack-destination "$tmp_root/pack") >/dev/null || return 1
  ls "$tmp_root"/pack/*.tgz
}

# ---- the tarball
tarball=""
case "${1:-}" in
  --build)
    phase_start; echo "compat: packing the working tree"
    tarball="$(build_tarball worktree)" || die "packing the working tree failed"
    phase_end "pack (working tree)" ;;
  --build=HEAD)
    phase_start; echo "compat: packing HEAD"
    tarball="$(build_tarball HEAD)" || die "packing HEAD failed"
    phase_end "pack (HEAD)" ;;
  -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
  "")
    shopt -s nullglob
    found=("$repo"/dist/js/*.tgz)
    shopt -u nullglob
    [ "${#found[@]}" -eq 1 ] || die "expected one dist/js/*.tgz (from npx projen build with CI=true), found ${#found[@]}; pass a tarball or --build"
    tarball="${found[0]}" ;;
  *) tarball="$1" ;;
esac
[ -f "$tarball" ] || die "no such tarball: $tarball"
tarball="$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")"
echo "compat: tarball $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KB)"

cli="$(node -p "require('$versions').cli")"
repo_cli="$(node -p "try { 'aws-cdk@' + require('$repo/node_modules/aws-cdk/package.json').version } catch { '' }")"
if [ -n "$repo_cli" ] && [ "$repo_cli" != "$cli" ]; then
  echo "compat: note: versions.json pins $cli, the repo installs $repo_cli (the npm cache is warm for the latter)"
fi

passed=0
failed=0
results=()
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true

for set in ${COMPAT_SETS:-floor newest}; do
  app="$tmp_root/$set"
  mkdir -p "$app"
  cp -R "$here/app/." "$app/"
  cp "$here/lib/probe.cjs" "$app/compat-probe.cjs"
  echo
  echo "== $set"

  phase_start
  if ! (node "$here/lib/prepare.cjs" package "$set" "$app" "$tarball" "$versions" "$repo" &&
    cd "$app" && npm install --no-audit --no-fund --loglevel=error >"$app/npm-install.log" 2>&1); then
    cat "$app/npm-install.log" 2>/dev/null || true
    phase_end "$set: npm install"
    for lang in ts js; do results+=("FAIL $set/$lang: npm install failed"); failed=$((failed + 1)); done
    continue
  fi
  phase_end "$set: npm install"
  node "$here/lib/prepare.cjs" cdk-json "$app"

  for lang in ts js; do
    out="cdk.out.$lang"
    if [ "$lang" = ts ]; then
      phase_start
      if ! (cd "$app" && npx --no-install tsc -p tsconfig.json >"$app/tsc.log" 2>&1); then
        phase_end "$set: tsc"
        line="FAIL $set/ts: tsc (strict, skipLibCheck: false) reported $(grep -c 'error TS' "$app/tsc.log" || true) error(s), no synth"
        echo "$line"
        sed 's/^/    /' "$app/tsc.log"
        results+=("$line")
        failed=$((failed + 1))
        continue
      fi
      phase_end "$set: tsc"
      entry="node -r ./compat-probe.cjs build/app.js"
    else
      entry="node -r ./compat-probe.cjs app.js"
    fi

    phase_start
    synth_rc=0
    (cd "$app" && COMPAT_PROBE_FILE="$app/probe.$lang.json" \
      npx --no-install cdk synth --quiet --no-notices --app "$entry" --output "$out") >"$app/synth.$lang.log" 2>&1 || synth_rc=$?
    phase_end "$set: cdk synth ($lang)"

    line_rc=0
    line="$(node "$here/lib/check-assembly.cjs" "$app" "$out" "$set/$lang" "$synth_rc" "$app/synth.$lang.log" "$app/probe.$lang.json")" || line_rc=$?
    case "$line" in
      PASS* | FAIL*) ;;
      *) line="FAIL $set/$lang: the assembly check itself failed"$'\n'"$line"; line_rc=1 ;;
    esac
    echo "$line"
    if [ "$line_rc" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    results+=("$(head -n 1 <<<"$line")")
  done
done

echo
echo "== timings"
printf '  %s\n' "${timings[@]}"
printf '  %-28s %4ss\n' "total" $((SECONDS - started_all))
echo
echo "== results"
printf '%s\n' "${results[@]}"
echo "compat: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
