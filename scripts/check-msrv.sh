#!/usr/bin/env bash
# Fails when a dependency needs a newer Rust than the workspace's `rust-version` says.
#
# The minimum is the highest `rust-version` among the normal and build dependencies (direct and
# transitive, every platform) of the published crates, as resolved by Cargo.lock. Language features
# and standard-library APIs of our own code are checked elsewhere: clippy's `incompatible_msrv` lint
# (on in `cargo clippy`) flags std APIs newer than `rust-version`.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v jq >/dev/null 2>&1 || { echo "check-msrv: jq is needed (apt-get install jq)" >&2; exit 1; }

cargo metadata --format-version 1 --locked | jq -r '
  def ver: split(".") | map(tonumber) | . + [0, 0] | .[0:3];
  . as $m
  | ($m.packages | map({key: .id, value: .}) | from_entries) as $pkg
  | ($m.resolve.nodes | map({key: .id, value: .}) | from_entries) as $node
  | [$m.workspace_members[] | select($pkg[.].publish == null)] as $published
  # Every package the published crates reach through normal and build dependencies (dev-dependencies
  # do not reach users).
  | {todo: $published, seen: {}}
  | until(.todo | length == 0;
      .todo[0] as $id | .todo |= .[1:]
      | if .seen[$id] then . else
          .seen[$id] = true
          | .todo += [$node[$id].deps[]
              | select(any(.dep_kinds[]; .kind == null or .kind == "build")) | .pkg]
        end)
  | (.seen | keys) as $reached
  | ($published | map($pkg[.].rust_version) | unique) as $declared
  | ([$reached[] | select($pkg[.].source != null) | $pkg[.]
      | select(.rust_version != null)] | max_by(.rust_version | ver)) as $top
  | if ($declared | length) != 1 then
      "check-msrv: the published crates declare different rust-versions: \($declared | join(", "))\n" | halt_error(1)
    elif ($top.rust_version | ver) > ($declared[0] | ver) then
      "check-msrv: \($top.name) \($top.version) needs Rust \($top.rust_version), but the workspace says rust-version = \"\($declared[0])\": raise it in Cargo.toml and README.md (Minimum supported Rust version)\n" | halt_error(1)
    else
      "check-msrv: rust-version \($declared[0]) covers every dependency (highest: \($top.name) \($top.version), \($top.rust_version))"
    end'
