#!/usr/bin/env bash
# One-off, for the merger of branch `vocab` (issue 14 "Core v2"): point every import at the core modules
# that branch added, after all helper branches are merged. Run from the repository root; idempotent.
#   1. Role, ROLE_LABELS, KINDERGARTEN_ROLES, BUREAU_ROLES   workflows.accounts.models  -> workflows.roles
#   2. CST (workflows.activities.vocabulary)                 -> BEIJING from workflows.clock (renamed in the file)
#   3. BEIJING (workflows.agreements.documents)              -> workflows.clock
#   4. chinese_date (agreements/certificates/mentors .documents) -> workflows.clock
#   5. datetime.now(BEIJING).date() / .year                  -> clock.today() / clock.today().year
# Then ruff sorts the imports and drops the ones left unused. Delete this file afterwards.
set -euo pipefail
DIRS="api workflows templates workers storage tests bench"
RUFF=${RUFF:-/work/main/.venv/bin/ruff}

# Split one import line: the names matching $NAMES move to a `from $NEW import ...` line (same indentation).
split_import() {  # old-module-regex new-module names-regex files...
  local old=$1 new=$2 names=$3; shift 3
  [ $# -gt 0 ] || return 0
  OLD="$old" NEW="$new" NAMES="$names" perl -i -pe '
    if (/^(\s*)from ($ENV{OLD}) import ([^()\n]+?)\s*$/) {
      my ($ind, $mod, @n) = ($1, $2, split /,\s*/, $3);
      my @move = grep { /^(?:$ENV{NAMES})(?: as \w+)?$/ } @n;
      my @keep = grep { !/^(?:$ENV{NAMES})(?: as \w+)?$/ } @n;
      if (@move) {
        $_ = (@keep ? "${ind}from $mod import " . join(", ", @keep) . "\n" : "")
           . "${ind}from $ENV{NEW} import " . join(", ", @move) . "\n";
      }
    }' "$@"
}

files_importing() {  # module-regex name-regex  (single-line imports only; the tree has no other kind of these)
  grep -rlE --include=*.py "^\s*from $1 import .*\b($2)\b" $DIRS | grep -vE "^(workflows/(roles|clock)\.py|docs/)" || true
}

# 1. Role and friends (workflows/accounts/models.py itself keeps its `X as X` re-exports).
ROLE_NAMES='Role|ROLE_LABELS|KINDERGARTEN_ROLES|BUREAU_ROLES'
split_import 'workflows\.accounts\.models' workflows.roles "$ROLE_NAMES" \
  $(files_importing 'workflows\.accounts\.models' "$ROLE_NAMES" | grep -v '^workflows/accounts/models.py$')

# 2. CST -> BEIJING (workflows/activities/vocabulary.py keeps `BEIJING as CST` for anything unmerged).
CST_FILES=$(files_importing 'workflows\.activities\.vocabulary' 'CST' | grep -v '^workflows/activities/vocabulary.py$' || true)
split_import 'workflows\.activities\.vocabulary' workflows.clock 'CST' $CST_FILES
# ... and the parenthesised `from workflows.activities.vocabulary import (\n    A,\n    CST,\n ...)` imports.
CST_ML_FILES=$(grep -lzP --include=*.py -r 'from workflows\.activities\.vocabulary import \((\n    \w+,)*\n    CST,' $DIRS || true)
[ -z "$CST_ML_FILES" ] || perl -0 -i -pe \
  's/^(from workflows\.activities\.vocabulary import \((?:\n    \w+,)*?)\n    CST,/from workflows.clock import BEIJING\n$1/m' $CST_ML_FILES
CST_FILES="$CST_FILES $CST_ML_FILES"
[ -z "${CST_FILES// /}" ] || perl -i -pe 's/\bCST\b/BEIJING/g unless /^\s*#|"""/' $CST_FILES  # code only

# 3. BEIJING from the agreements' documents module.
split_import 'workflows\.agreements\.documents' workflows.clock 'BEIJING' \
  $(files_importing 'workflows\.agreements\.documents' 'BEIJING' | grep -v '^workflows/agreements/documents.py$')

# 4. chinese_date from the documents modules that re-export it.
for m in agreements certificates mentors; do
  split_import "workflows\\.$m\\.documents" workflows.clock 'chinese_date' \
    $(files_importing "workflows\\.$m\\.documents" 'chinese_date' | grep -v "^workflows/$m/documents.py$")
done

# 5. "Today in Beijing" through the clock, so tests can travel.
TODAY_FILES=$(grep -rlE --include=*.py 'datetime\.now\((BEIJING|DISTRICT_ZONE)\)\.(date\(\)|year)' $DIRS \
  | grep -vE '^(workflows/clock\.py|tests/|api/cli\.py)' || true)  # cli.py imports lazily, by hand
if [ -n "$TODAY_FILES" ]; then
  perl -i -pe 's/datetime\.now\((?:BEIJING|DISTRICT_ZONE)\)\.date\(\)/clock.today()/g;
                s/datetime\.now\((?:BEIJING|DISTRICT_ZONE)\)\.year\b/clock.today().year/g' $TODAY_FILES
  for f in $TODAY_FILES; do  # one `from workflows import clock` at the top of the imports (ruff places it)
    grep -qE '^from workflows import (.*\b)?clock\b' "$f" \
      || perl -0 -i -pe 's/^(from __future__ import annotations\n)/$1from workflows import clock\n/m or die "no __future__ import in $ARGV\n"' "$f"
  done
fi

"$RUFF" check --select I,F401 --fix --quiet $DIRS || true
"$RUFF" format --quiet $DIRS
"$RUFF" check $DIRS
echo "left over:"
grep -rnE --include=*.py 'import .*\bCST\b|agreements\.documents import .*\bBEIJING\b|accounts\.models import .*\b(Role|ROLE_LABELS|KINDERGARTEN_ROLES|BUREAU_ROLES)\b' $DIRS \
  | grep -vE '^workflows/(accounts/models|activities/vocabulary|agreements/documents)\.py:' || echo "  nothing"
