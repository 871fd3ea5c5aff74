#!/usr/bin/env bash
# journeyctl validate as a process: output lines and exit codes of SPEC section 11.
# usage: journeyctl_validate.sh JOURNEYCTL EVENTS_DIR
set -uo pipefail
ctl=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
expect() {  # name, wanted exit code, wanted stdout, actual exit code, actual stdout
  if [ "$2" != "$4" ] || [ "$3" != "$5" ]; then
    echo "FAIL $1: exit $4 (want $2), output:"; echo "$5"; echo "want:"; echo "$3"
    fails=$((fails + 1))
  else
    echo "ok   $1"
  fi
}

out=$("$ctl" validate "$dir/invalid/value_without_currency.json"); rc=$?
expect "value without currency" 1 "event 0: properties.currency: required when properties.value is set" $rc "$out"

out=$("$ctl" validate "$dir/valid/purchase_full.json"); rc=$?
expect "valid file" 0 "ok" $rc "$out"

out=$("$ctl" validate - < "$dir/valid/custom.json"); rc=$?
expect "stdin with -" 0 "ok" $rc "$out"

out=$("$ctl" validate < "$dir/valid/refund_min.json"); rc=$?
expect "stdin without FILE" 0 "ok" $rc "$out"

{ jq_line() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$1"; }
  jq_line "$dir/valid/refund_min.json"; echo "   "; echo '[1]'; jq_line "$dir/invalid/many_problems.json"
} > "$tmp/events.ndjson"
out=$("$ctl" validate "$tmp/events.ndjson"); rc=$?
want="event 1: event: must be a JSON object
$(sed 's/^/event 2: /' "$dir/invalid/many_problems.expect")"
expect "ndjson: blank lines skipped, one line per problem" 1 "$want" $rc "$out"

printf '[%s, %s]' "$(cat "$dir/valid/checkout_cart.json")" "$(cat "$dir/invalid/type_unknown.json")" > "$tmp/array.json"
out=$("$ctl" validate "$tmp/array.json"); rc=$?
want=$(sed 's/^/event 1: /' "$dir/invalid/type_unknown.expect")
expect "array" 1 "$want" $rc "$out"

out=$("$ctl" validate "$tmp/missing.json" 2>"$tmp/err"); rc=$?
expect "unreadable file exits 2" 2 "" $rc "$out"
grep -q "missing.json" "$tmp/err" || { echo "FAIL unreadable file: stderr does not name the file: $(cat "$tmp/err")"; fails=$((fails + 1)); }

out=$("$ctl" validate "$tmp" 2>"$tmp/err"); rc=$?
expect "a directory exits 2" 2 "" $rc "$out"
grep -q "cannot read $tmp" "$tmp/err" || { echo "FAIL directory: stderr does not name it: $(cat "$tmp/err")"; fails=$((fails + 1)); }

out=$("$ctl" validate --bogus 2>/dev/null); rc=$?
expect "unknown option exits 2" 2 "" $rc "$out"

out=$("$ctl" validate --help); rc=$?
[ $rc -eq 0 ] && [[ "$out" == usage:\ journeyctl\ validate* ]] && echo "ok   --help" || { echo "FAIL --help ($rc): $out"; fails=$((fails + 1)); }

[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
