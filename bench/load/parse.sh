# Pure helpers shared by every bench/load script (sourced, not run): option checks and the parsing of wrk and hey
# output. No state, no processes. The sourcing script defines die().
# shellcheck shell=bash

is_uint() { [[ "$1" =~ ^[0-9]+$ ]] && (( 10#$1 > 0 )); }
need_value() { [[ $# -ge 2 && -n "$2" ]] || die "option $1 needs a value (see --help)"; }
wrk_rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
wrk_errors() { # non-2xx/3xx responses + socket errors
  awk '/Non-2xx or 3xx responses:/ {n += $NF}
       /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10}
       END {print n + 0}' "$1"
}
wrk_total() { awk '/requests in/ {print $1}' "$1"; }
stats() { # numbers... -> "median min max"
  printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {
    m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print m, a[1], a[NR]}'
}
hey_rps() { awk '/Requests\/sec:/ {printf "%.0f", $2}' "$1"; }
hey_errors() { # responses other than 2xx + transport errors
  awk '/Status code distribution:/ {s = 1; next}
       /Error distribution:/ {s = 0; e = 1; next}
       s && /^\s*\[[0-9]+\]/ {code = $1; gsub(/[\[\]]/, "", code); if (code !~ /^2/) n += $2}
       e && /^\s*\[[0-9]+\]/ {c = $1; gsub(/[\[\]]/, "", c); n += c}
       END {print n + 0}' "$1"
}
spread() { awk -v lo="$1" -v hi="$2" -v m="$3" 'BEGIN {if (m > 0) printf "%.0f%%", 100 * (hi - lo) / m; else print "n/a"}'; }
verdict() { [[ "$1" == 1 ]] && echo "met" || echo "MISSED"; }
