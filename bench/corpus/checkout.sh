#!/usr/bin/env bash
# Lay out the corpus of bench/corpus/repos.txt as work trees in a scratch
# folder, one directory per repository (`owner+name`), at the listed commit.
#
#   bench/corpus/checkout.sh SCRATCH [SOURCE]
#
# SOURCE is where the repositories come from: a folder holding bare git
# directories as `owner+name/repo` (or `owner+name.git`), or a URL prefix
# that `git clone` understands (`SOURCE/owner/name`). The default is
# $CORPUS_SOURCE. Only Terraform files are laid out. Repositories that cannot be had are listed and skipped:
# bench/corpus/run.py works on whatever is in SCRATCH. Nothing here is
# committed to proviso; the third-party code stays in SCRATCH.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scratch=${1:?usage: checkout.sh SCRATCH [SOURCE]}
source=${2:-${CORPUS_SOURCE:-}}
[ -n "$source" ] || { echo "no SOURCE given and CORPUS_SOURCE unset" >&2; exit 2; }
mkdir -p "$scratch"
missing=()
while read -r repo commit subdir; do
  case "$repo" in ''|'#'*) continue ;; esac
  dir="$scratch/${repo/\//+}"
  if [ -d "$dir" ]; then echo "have $repo"; continue; fi
  gitdir=""
  for cand in "$source/${repo/\//+}/repo" "$source/${repo/\//+}.git" "$source/${repo/\//+}"; do
    if [ -d "$cand" ] && git --git-dir="$cand" rev-parse --verify -q "$commit^{commit}" >/dev/null; then
      gitdir=$cand; break
    fi
  done
  if [ -z "$gitdir" ] && [ ! -d "$source" ]; then
    tmp="$scratch/.clone-${repo/\//+}"
    if git clone -q --bare "$source/$repo" "$tmp" 2>/dev/null; then gitdir=$tmp; fi
  fi
  if [ -z "$gitdir" ]; then missing+=("$repo"); echo "skip $repo (not found at $source)"; continue; fi
  mkdir -p "$dir"
  # Only the listed subdirectory (the azurerm provider's examples/) when one is given.
  # Only the files proviso and hcl2json read (.tf, .tf.json, .tfvars[.json]),
  # blob by blob: snapshots may lack large files, and the source's own index
  # and HEAD are left alone.
  git --git-dir="$gitdir" ls-tree -r -z --full-tree "$commit" -- ${subdir:+"$subdir"} |
  while IFS= read -r -d '' entry; do
    path=${entry#*$'\t'}; meta=${entry%%$'\t'*}; set -- $meta
    [ "$2" = blob ] || continue
    case "$path" in *.tf|*.tf.json|*.tfvars|*.tfvars.json) ;; *) continue ;; esac
    mkdir -p "$dir/$(dirname "$path")"
    if [ "$1" = 120000 ]; then
      # A symbolic link (modules share `locals.tf` that way): keep it one.
      ln -sfn "$(git --git-dir="$gitdir" cat-file blob "$3")" "$dir/$path"
    else
      git --git-dir="$gitdir" cat-file blob "$3" > "$dir/$path" 2>/dev/null || { rm -f "$dir/$path"; echo "  lacks $path" >&2; }
    fi
  done
  echo "got  $repo @ ${commit:0:12}${subdir:+ ($subdir/)}"
done < "$here/repos.txt"
[ ${#missing[@]} -eq 0 ] || echo "missing: ${missing[*]}" >&2
