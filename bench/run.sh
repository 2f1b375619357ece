#!/usr/bin/env bash
# Gateway load test: wrk against a trivial local backend, directly and through
# nginx (plain reverse proxy), Portico on an open API and Portico with a
# subscription-key check. Prints requests/s, p50 and p99 latency and their
# ratios to the direct run as a Markdown table, and keeps the raw wrk outputs
# under bench/results/ (ignored by git).
#
#   bash bench/run.sh
#
# Settings (environment):
#   DURATION=10s      wrk measurement time per run
#   WARMUP=2s         unrecorded wrk run before each measurement ("0" for none)
#   CONNECTIONS=32    wrk connections
#   THREADS=1         wrk threads
#   ROUNDS=3          rounds; each round runs every scenario once, in turn,
#                     and the table shows the median of the rounds
#   SCENARIOS="direct nginx go-stdproxy portico-open portico-key"
#   BENCH_PORTICO_FLAGS=""  extra flags of portico serve, e.g. --telemetry=false
#                     go-stdproxy is net/http + httputil.ReverseProxy alone
#                     (bench/stdproxy): how much of Portico's cost is Go's
#                     HTTP stack rather than the gateway
#   LOAD_CPU=0        core of wrk
#   SERVER_CPU=1      core of the backend and of the proxy under test
#   PROFILE=0         1: perf-record Portico during the first portico-key
#                     measurement (needs perf) into the results directory
#   PERF_STAT=0       1: count the server's syscalls and context switches per
#                     request with perf stat (needs perf)
#   RESULTS_DIR=bench/results
#   KEEP_WORK=0       1: keep the temporary build/data directory
#
# Pinning (taskset): wrk alone on LOAD_CPU; the backend and the proxy under
# test share SERVER_CPU, so on a 2-core machine the load generator never
# competes with the servers, and a proxy's throughput shows the CPU it adds
# per request next to the backend's. Go processes size GOMAXPROCS from their
# affinity (1 here), as nginx runs one worker. Besides wrk's numbers the
# table gives the server's CPU time per request (from /proc), which other
# jobs on a shared machine disturb much less than requests/s or p99.
#
# Everything listens on 127.0.0.1 on free ports picked at start; nothing is
# sent anywhere else. Every process started here is stopped on exit.
set -euo pipefail

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-3}
SCENARIOS=${SCENARIOS:-"direct nginx go-stdproxy portico-open portico-key"}
LOAD_CPU=${LOAD_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
PROFILE=${PROFILE:-0}
PERF_STAT=${PERF_STAT:-0}
KEEP_WORK=${KEEP_WORK:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench/results}

log() { printf '%s\n' "$*" >&2; }
die() { log "run.sh: $*"; exit 1; }

# --- tools -------------------------------------------------------------------

install_tools() {
	local missing=()
	command -v wrk >/dev/null || missing+=(wrk)
	command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
	command -v curl >/dev/null || missing+=(curl)
	command -v taskset >/dev/null || missing+=(util-linux)
	((${#missing[@]})) || return 0
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || die "missing ${missing[*]} and not root: install them first"
		sudo=(sudo)
	fi
	log "installing ${missing[*]} ..."
	export DEBIAN_FRONTEND=noninteractive
	if ! "${sudo[@]}" apt-get install -y "${missing[@]}" >&2; then
		"${sudo[@]}" apt-get update >&2
		"${sudo[@]}" apt-get install -y "${missing[@]}" >&2
	fi
}
install_tools
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v go >/dev/null || die "go is not on PATH"
if [[ $PROFILE == 1 || $PERF_STAT == 1 ]]; then
	command -v perf >/dev/null || die "PROFILE=1 and PERF_STAT=1 need perf (Debian: linux-perf)"
fi

ncpu=$(nproc)
((LOAD_CPU < ncpu && SERVER_CPU < ncpu)) || die "LOAD_CPU=$LOAD_CPU / SERVER_CPU=$SERVER_CPU: this machine has $ncpu CPUs"

# --- processes and cleanup -----------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-bench.XXXXXX")
PIDS=()

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ $KEEP_WORK == 1 ]]; then
		log "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port prints a TCP port nothing listens on now, outside the ephemeral
# range (where outgoing connections would soon take it).
PICKED=""
read -r EPH_LO EPH_HI </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { EPH_LO=32768 EPH_HI=60999; }
free_port() {
	local p
	for _ in $(seq 500); do
		p=$((10000 + RANDOM % 55000))
		((p < EPH_LO || p > EPH_HI)) || continue
		[[ " $PICKED " != *" $p "* ]] || continue
		if [[ -z $(ss -Htln "sport = :$p" 2>/dev/null) ]] && ! (: <"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

# wait_ok LOG URL [curl args...]: poll until URL answers 200 (30 s at most);
# on failure show LOG, the output of the process that should answer.
wait_ok() {
	local logf=$1 url=$2 code
	shift 2
	for _ in $(seq 300); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null || true)
		[[ $code == 200 ]] && return 0
		sleep 0.1
	done
	log "--- $logf:"
	cat "$logf" >&2 || true
	die "$url did not answer 200 (last status: ${code:-none})"
}

# --- build ---------------------------------------------------------------------

log "building backend, stdproxy and portico into $WORK ..."
(cd "$ROOT" && go build -o "$WORK/backend" ./bench/backend && go build -o "$WORK/stdproxy" ./bench/stdproxy &&
	go build -o "$WORK/portico" ./cmd/portico)
TREE="commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -z $(cd "$ROOT" && git status --porcelain 2>/dev/null | grep -v ' bench/') ]] || TREE+=" with uncommitted changes outside bench/"

# --- backend -------------------------------------------------------------------

BACKEND_PORT=$(free_port)
PICKED+=" $BACKEND_PORT"
BACKEND=http://127.0.0.1:$BACKEND_PORT
taskset -c "$SERVER_CPU" "$WORK/backend" -addr "127.0.0.1:$BACKEND_PORT" >"$WORK/backend.log" 2>&1 &
PIDS+=($!)
wait_ok "$WORK/backend.log" "$BACKEND/hello"

declare -A URL HEADER
URL[direct]=$BACKEND/hello

# --- nginx ---------------------------------------------------------------------

want() { [[ " $SCENARIOS " == *" $1 "* ]]; }

if want nginx; then
	NGINX_PORT=$(free_port)
	PICKED+=" $NGINX_PORT"
	mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
	user_line=""
	[[ $(id -u) -eq 0 ]] && user_line="user root;" # workers must reach the temp dir (mode 0700)
	cat >"$WORK/nginx/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    upstream backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
	taskset -c "$SERVER_CPU" "$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/logs/error.log" -c "$WORK/nginx/nginx.conf" \
		>"$WORK/nginx/stdout.log" 2>&1 &
	NGINX_PID=$!
	PIDS+=($NGINX_PID)
	URL[nginx]=http://127.0.0.1:$NGINX_PORT/hello
	wait_ok "$WORK/nginx/logs/error.log" "${URL[nginx]}"
fi

# --- Go standard library reverse proxy -------------------------------------------

if want go-stdproxy; then
	STDPROXY_PORT=$(free_port)
	PICKED+=" $STDPROXY_PORT"
	taskset -c "$SERVER_CPU" "$WORK/stdproxy" -addr "127.0.0.1:$STDPROXY_PORT" -backend "$BACKEND" >"$WORK/stdproxy.log" 2>&1 &
	STDPROXY_PID=$!
	PIDS+=($STDPROXY_PID)
	URL[go-stdproxy]=http://127.0.0.1:$STDPROXY_PORT/hello
	wait_ok "$WORK/stdproxy.log" "${URL[go-stdproxy]}"
fi

# --- portico -------------------------------------------------------------------

if want portico-open || want portico-key; then
	# A PORTICO_* variable of the caller (a PostgreSQL store, TLS, ...) must not
	# change what is measured.
	for v in $(compgen -e | grep '^PORTICO_' || true); do unset "$v"; done
	MGMT_PORT=$(free_port)
	PICKED+=" $MGMT_PORT"
	GW_PORT=$(free_port)
	PICKED+=" $GW_PORT"
	OPS_PORT=$(free_port)
	PICKED+=" $OPS_PORT"
	TOKEN=bench-$(od -An -tx1 -N16 /dev/urandom | tr -d " \n") # 38 characters: admin tokens need at least 32
	PORTICO_ADMIN_TOKEN=$TOKEN taskset -c "$SERVER_CPU" "$WORK/portico" serve \
		--data-dir "$WORK/portico-data" \
		--mgmt-addr "127.0.0.1:$MGMT_PORT" --gateway-addr "127.0.0.1:$GW_PORT" --ops-addr "127.0.0.1:$OPS_PORT" \
		--echo-addr 127.0.0.1:0 --log-level warn ${BENCH_PORTICO_FLAGS:-} >"$WORK/portico.log" 2>&1 &
	PORTICO_PID=$!
	PIDS+=($PORTICO_PID)
	MGMT=http://127.0.0.1:$MGMT_PORT/api/v1
	GW=http://127.0.0.1:$GW_PORT
	AUTH="Authorization: Bearer $TOKEN"
	wait_ok "$WORK/portico.log" "$MGMT/revision" -H "$AUTH"

	mgmt() { # METHOD PATH [JSON]
		local args=(-fsS -o /dev/null -X "$1" -H "$AUTH")
		[[ $# -ge 3 ]] && args+=(-H 'Content-Type: application/json' -d "$3")
		curl "${args[@]}" "$MGMT$2" || die "$1 $2 failed"
	}
	mgmt PUT /apis/open "{\"displayName\":\"Open\",\"path\":\"open\",\"serviceUrl\":\"$BACKEND\",\"protocols\":[\"http\"],\"subscriptionRequired\":false}"
	mgmt PUT /apis/open/operations/hello '{"displayName":"hello","method":"GET","urlTemplate":"/hello"}'
	mgmt PUT /apis/keyed "{\"displayName\":\"Keyed\",\"path\":\"keyed\",\"serviceUrl\":\"$BACKEND\",\"protocols\":[\"http\"],\"subscriptionRequired\":true}"
	mgmt PUT /apis/keyed/operations/hello '{"displayName":"hello","method":"GET","urlTemplate":"/hello"}'
	mgmt PUT /subscriptions/bench '{"scope":"/apis/keyed","displayName":"bench"}'
	KEY=$(curl -fsS -X POST -H "$AUTH" "$MGMT/subscriptions/bench/listSecrets" |
		sed -n 's/.*"primaryKey": *"\([^"]*\)".*/\1/p')
	[[ -n $KEY ]] || die "no key from listSecrets"

	URL[portico-open]=$GW/open/hello
	URL[portico-key]=$GW/keyed/hello
	HEADER[portico-key]="Ocp-Apim-Subscription-Key: $KEY"
	wait_ok "$WORK/portico.log" "${URL[portico-open]}"
	wait_ok "$WORK/portico.log" "${URL[portico-key]}" -H "${HEADER[portico-key]}"
	code=$(curl -s -o /dev/null -w '%{http_code}' "${URL[portico-key]}")
	[[ $code == 401 ]] || die "portico-key without a key answered $code, want 401"
fi

# --- wrk -------------------------------------------------------------------------

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$RESULTS_DIR/$STAMP
mkdir -p "$OUT"

# to_ms VALUE: wrk's "812.00us", "1.85ms", "1.02s", "2.00m" in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; else if (u != "ms") { print "?"; exit }
		printf "%.3f\n", n }'
}

# run_wrk SCENARIO FILE [DURATION]: one wrk run, output into FILE.
run_wrk() {
	local s=$1 file=$2 d=${3:-$DURATION}
	local args=(-t"$THREADS" -c"$CONNECTIONS" -d"$d" --latency)
	[[ -n ${HEADER[$s]:-} ]] && args+=(-H "${HEADER[$s]}")
	taskset -c "$LOAD_CPU" wrk "${args[@]}" "${URL[$s]}" >"$file" 2>&1
}

# server_pids SCENARIO: the processes doing the serving (nginx: master and workers).
declare -A SERVER_PID
SERVER_PID[direct]=${PIDS[0]}
[[ -z ${NGINX_PID:-} ]] || SERVER_PID[nginx]=$NGINX_PID
[[ -z ${STDPROXY_PID:-} ]] || SERVER_PID[go-stdproxy]=$STDPROXY_PID
[[ -z ${PORTICO_PID:-} ]] || SERVER_PID[portico-open]=$PORTICO_PID SERVER_PID[portico-key]=$PORTICO_PID
server_pids() {
	local p=${SERVER_PID[$1]}
	echo "$p"
	[[ $1 != nginx ]] || pgrep -P "$p" || true
}

# cpu_ticks PID...: user+system CPU time of the processes, in clock ticks.
cpu_ticks() {
	local t=0 p stat f
	for p; do
		stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		read -ra f <<<"${stat##*) }" # fields from 3 (state) on: utime is 14, stime 15
		t=$((t + f[11] + f[12]))
	done
	echo "$t"
}
HZ=$(getconf CLK_TCK)

declare -A RPS P50 P99 CPU SC CS
for s in $SCENARIOS; do
	[[ -n ${URL[$s]:-} ]] || die "unknown scenario $s"
	RPS[$s]="" P50[$s]="" P99[$s]="" CPU[$s]="" SC[$s]="" CS[$s]=""
done

log "load: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency on CPU $LOAD_CPU; backend and proxy on CPU $SERVER_CPU; $ROUNDS round(s); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
	for s in $SCENARIOS; do
		[[ $WARMUP == 0 ]] || run_wrk "$s" "$OUT/$s.warmup.txt" "$WARMUP"
		file=$OUT/$s.round$round.txt
		perf_pid=""
		if [[ $PROFILE == 1 && $s == portico-key && $round == 1 ]]; then
			perf record -F 499 -g -p "$PORTICO_PID" -o "$OUT/perf-portico-key.data" >"$OUT/perf-record.log" 2>&1 &
			perf_pid=$!
		fi
		pids=$(server_pids "$s")
		stat_pid=""
		if [[ $PERF_STAT == 1 ]]; then
			perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$(echo $pids | tr ' ' ,)" \
				-o "$OUT/$s.round$round.perfstat" >/dev/null 2>&1 &
			stat_pid=$!
		fi
		# shellcheck disable=SC2086
		t0=$(cpu_ticks $pids)
		run_wrk "$s" "$file"
		# shellcheck disable=SC2086
		t1=$(cpu_ticks $pids)
		if [[ -n $perf_pid ]]; then
			kill -INT "$perf_pid" 2>/dev/null || true
			wait "$perf_pid" 2>/dev/null || true
		fi
		if [[ -n $stat_pid ]]; then
			kill -INT "$stat_pid" 2>/dev/null || true
			wait "$stat_pid" 2>/dev/null || true
		fi
		if grep -q 'Non-2xx or 3xx responses' "$file"; then
			cat "$file" >&2
			die "$s answered errors under load; see $file"
		fi
		rps=$(awk '/^Requests\/sec:/ {print $2}' "$file")
		p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$file")")
		p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$file")")
		n=$(awk '/ requests in / {print $1}' "$file")
		[[ -n $rps && -n $n && $p50 != "?" && $p99 != "?" ]] || { cat "$file" >&2; die "cannot parse $file"; }
		cpu=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$n" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
		echo "server CPU: $((t1 - t0)) ticks at $HZ Hz for $n requests = $cpu us/request (pids $(echo $pids))" >>"$file"
		if [[ -n $stat_pid ]]; then
			sc=$(awk -F, -v n="$n" '$3 == "raw_syscalls:sys_enter" {printf "%.1f", $1 / n}' "$OUT/$s.round$round.perfstat")
			cs=$(awk -F, -v n="$n" '$3 == "context-switches" {printf "%.2f", $1 / n}' "$OUT/$s.round$round.perfstat")
			echo "server syscalls/request: $sc, context switches/request: $cs" >>"$file"
			SC[$s]+="${sc:-0} " CS[$s]+="${cs:-0} "
		fi
		errs=$(grep -m1 'Socket errors' "$file" || true)
		log "round $round  $(printf '%-13s' "$s") $(printf '%10.0f' "$rps") req/s  p50 ${p50} ms  p99 ${p99} ms  server CPU ${cpu} us/req${errs:+  ($errs)}"
		RPS[$s]+="$rps " P50[$s]+="$p50 " P99[$s]+="$p99 " CPU[$s]+="$cpu "
	done
done
rm -f "$OUT"/*.warmup.txt

# median LIST..., min, max
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
minmax() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.0f–%.0f", lo, hi}'; }

declare -A MRPS MP50 MP99 MCPU
for s in $SCENARIOS; do
	# shellcheck disable=SC2086
	MRPS[$s]=$(median ${RPS[$s]}) MP50[$s]=$(median ${P50[$s]}) MP99[$s]=$(median ${P99[$s]}) MCPU[$s]=$(median ${CPU[$s]})
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "–" }'; }
base=direct
want direct || base=""

{
	echo "Gateway load test, $STAMP"
	echo
	echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3-), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///')"
	echo "- tree: $TREE"
	echo "- load: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (warm-up $WARMUP) on CPU $LOAD_CPU; backend and proxy on CPU $SERVER_CPU"
	echo "- $ROUNDS round(s), medians shown; load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| scenario | req/s | p50 (ms) | p99 (ms) | req/s vs direct | p99 vs direct | req/s range over rounds | server CPU µs/req |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for s in $SCENARIOS; do
		# shellcheck disable=SC2086
		printf '| %s | %.0f | %.2f | %.2f | %s | %s | %s | %.1f |\n' "$s" "${MRPS[$s]}" "${MP50[$s]}" "${MP99[$s]}" \
			"$( [[ -n $base ]] && ratio "${MRPS[$s]}" "${MRPS[$base]}" || echo –)" \
			"$( [[ -n $base ]] && ratio "${MP99[$s]}" "${MP99[$base]}" || echo –)" \
			"$(minmax ${RPS[$s]})" "${MCPU[$s]}"
	done
	echo
	echo "server CPU µs/req: user+system CPU time of the process under test (the backend for direct, nginx's master and worker, stdproxy, portico) divided by the requests wrk completed; the backend's own CPU is not included for the proxies."
	if [[ $PERF_STAT == 1 ]]; then
		echo
		echo "| scenario | server syscalls/req | server context switches/req |"
		echo "|---|---:|---:|"
		for s in $SCENARIOS; do
			# shellcheck disable=SC2086
			echo "| $s | $(median ${SC[$s]}) | $(median ${CS[$s]}) |"
		done
	fi
	if want nginx && want portico-key; then
		echo
		echo "portico-key vs nginx: $(ratio "${MRPS[portico-key]}" "${MRPS[nginx]}")× the req/s, $(ratio "${MP99[portico-key]}" "${MP99[nginx]}")× the p99, $(ratio "${MCPU[portico-key]}" "${MCPU[nginx]}")× the CPU per request."
	fi
} | tee "$OUT/table.md"
cp "$OUT/table.md" "$RESULTS_DIR/latest.md"
log "raw wrk outputs and table: $OUT"
if [[ $PROFILE == 1 && -f $OUT/perf-portico-key.data ]]; then
	perf report -i "$OUT/perf-portico-key.data" --stdio --no-children --percent-limit 1 -g none \
		>"$OUT/perf-portico-key.txt" 2>/dev/null || true
	log "profile: $OUT/perf-portico-key.txt"
fi
