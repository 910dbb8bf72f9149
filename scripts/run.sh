#!/usr/bin/env bash
# make run: build tokenserver, corsproxy and webdemo, start them wired together, and stop
# them together. Ctrl-C (or SIGTERM) stops all three gracefully; if one of them dies, the
# others are stopped and its own error line is the last thing printed.
#
# Knobs (environment or .env; the environment wins, as with docker compose):
#   AGORA_APP_ID, AGORA_APP_CERTIFICATE, AGORA_APP_CERTIFICATE_FILE   credentials (none: demo mode;
#   APP_ID and APP_CERTIFICATE are read too)
#   PORT_TOKENSERVER (8081) PORT_CORSPROXY (8080) PORT_CORSPROXY_ADMIN (9091) PORT_WEBDEMO (9000)
#   RUN_HOST (127.0.0.1)   the address all four listen on; loopback, as docker compose publishes.
#                          RUN_HOST=0.0.0.0 (or ::) opens them to the network, where the token
#                          server (auth.mode none) hands a token for any user ID to anyone.
#   TOKENSERVER_* CORSPROXY_* WEBDEMO_*   passed to the programs (wiring keys below are set here)
#   RUN_ENV_FILE (.env)  RUN_BIN_DIR (bin)  RUN_READY_TIMEOUT (60 s)  RUN_STOP_TIMEOUT (15 s)
#   VERSION (git describe)
#
# Written for bash 3.2 too (macOS): no wait -n, no associative arrays, no fractional read -t.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

say() { printf 'run: %s\n' "$*"; }
die() {
	printf 'run: %s\n' "$*" >&2
	exit 1
}

# --- .env -------------------------------------------------------------------------------
# Parsed, never sourced: a value is data, not shell code. KEY=VALUE per line, optional
# `export `, # comments, values optionally in single or double quotes.
load_env_file() {
	local file=$1 line key value n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%$'\r'}
		line=${line#"${line%%[![:space:]]*}"}
		case $line in '' | '#'*) continue ;; esac
		line=${line#export }
		key=${line%%=*}
		key=${key%"${key##*[![:space:]]}"}
		if [ "$key" = "$line" ] || ! [[ $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
			die "$file:$n: expected KEY=VALUE (got \"${line:0:40}\")"
		fi
		value=${line#*=}
		value=${value#"${value%%[![:space:]]*}"}
		case $value in
		\"*) value=${value:1} value=${value%%\"*} ;; # up to the closing quote; no escapes
		\'*) value=${value:1} value=${value%%\'*} ;;
		*)
			# an unquoted value ends at " #", like docker compose reads it
			value=${value%%[[:space:]]#*}
			value=${value%"${value##*[![:space:]]}"}
			;;
		esac
		if [ -z "${!key+set}" ]; then
			printf -v "$key" '%s' "$value"
			case $key in TOKENSERVER_* | CORSPROXY_* | WEBDEMO_*) export "${key?}" ;; esac
		fi
	done <"$file"
}

env_file=${RUN_ENV_FILE:-.env}
if [ -n "${RUN_ENV_FILE:-}" ]; then
	if [ ! -r "$env_file" ] || [ -d "$env_file" ]; then die "RUN_ENV_FILE=$env_file: no such file"; fi
	load_env_file "$env_file"
elif [ -f "$env_file" ]; then
	load_env_file "$env_file"
	say "read $env_file"
fi

port() { # name default: a port number from the environment, or die naming the variable
	local v=${!1:-$2}
	if ! [[ $v =~ ^[0-9]+$ ]] || [ "$v" -lt 1 ] || [ "$v" -gt 65535 ]; then
		die "$1: must be a port number 1-65535 (got \"$v\")"
	fi
	printf '%s' "$v"
}
p_token=$(port PORT_TOKENSERVER 8081) || exit 1
p_proxy=$(port PORT_CORSPROXY 8080) || exit 1
p_admin=$(port PORT_CORSPROXY_ADMIN 9091) || exit 1
p_demo=$(port PORT_WEBDEMO 9000) || exit 1

# host: an IP address literal, bracketed for host:port when it is IPv6.
host=${RUN_HOST:-127.0.0.1}
if [[ $host =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; then
	listen_host=$host
elif [[ $host =~ ^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$ ]]; then
	listen_host="[$host]"
else
	die "RUN_HOST: must be an IP address such as 127.0.0.1 (the default), 0.0.0.0 or :: (got \"$host\")"
fi

# --- credentials --------------------------------------------------------------------------
# The short names are the .env interface; the programs read their own prefixed keys. An
# explicitly set prefixed variable wins. The certificate only ever reaches the token server.
# APP_ID and APP_CERTIFICATE, the names other Agora token servers read, count as well.
AGORA_APP_ID=${AGORA_APP_ID:-${APP_ID:-}}
AGORA_APP_CERTIFICATE=${AGORA_APP_CERTIFICATE:-${APP_CERTIFICATE:-}}
if [ -n "${AGORA_APP_ID:-}" ]; then
	export TOKENSERVER_AGORA_APP_ID="${TOKENSERVER_AGORA_APP_ID:-$AGORA_APP_ID}"
	export WEBDEMO_AGORA_APP_ID="${WEBDEMO_AGORA_APP_ID:-$AGORA_APP_ID}"
fi
if [ -n "${AGORA_APP_CERTIFICATE:-}" ]; then
	export TOKENSERVER_AGORA_APP_CERTIFICATE="${TOKENSERVER_AGORA_APP_CERTIFICATE:-$AGORA_APP_CERTIFICATE}"
fi
if [ -n "${AGORA_APP_CERTIFICATE_FILE:-}" ]; then
	export TOKENSERVER_AGORA_APP_CERTIFICATE_FILE="${TOKENSERVER_AGORA_APP_CERTIFICATE_FILE:-$AGORA_APP_CERTIFICATE_FILE}"
fi
unset AGORA_APP_CERTIFICATE
# The page says demo mode before the first Login when the token server will have no
# certificate (an explicit WEBDEMO_DEMO_MODE wins).
if [ -z "${TOKENSERVER_AGORA_APP_CERTIFICATE:-}${TOKENSERVER_AGORA_APP_CERTIFICATE_FILE:-}" ]; then
	export WEBDEMO_DEMO_MODE="${WEBDEMO_DEMO_MODE:-true}"
fi
no_cert=(env -u TOKENSERVER_AGORA_APP_CERTIFICATE -u TOKENSERVER_AGORA_APP_CERTIFICATE_FILE -u APP_CERTIFICATE)

# --- wiring (the same as docker-compose.yml) ---------------------------------------------
export TOKENSERVER_LISTEN="$listen_host:$p_token"
export CORSPROXY_LISTEN="$listen_host:$p_proxy"
export CORSPROXY_ADMIN_LISTEN="$listen_host:$p_admin"
# The proxy reaches the token server on loopback, or on RUN_HOST when that is one address.
case $host in
0.0.0.0) upstream_host=127.0.0.1 ;;
:: | ::0 | 0:0:0:0:0:0:0:0) upstream_host='[::1]' ;;
*) upstream_host=$listen_host ;;
esac
export CORSPROXY_UPSTREAM="http://$upstream_host:$p_token"
# The token server believes the proxy's address: it keys its per-IP limits on the browser
# address the proxy forwards, and leaves the proxy's upstream connections (one per client
# connection) out of max_conns_per_ip, which would otherwise cut the proxy off at 32 clients.
upstream_ip=${upstream_host#[}
export TOKENSERVER_TRUSTED_PROXIES="${TOKENSERVER_TRUSTED_PROXIES:-${upstream_ip%]}}"
export CORSPROXY_CORS_ALLOWED_ORIGINS="http://localhost:$p_demo,http://127.0.0.1:$p_demo"
# The token doctor page asks POST /v1/tokens/diagnose through the proxy; on this machine
# that is fine, while the shipped configs/corsproxy.yaml keeps it private (a signature oracle).
export CORSPROXY_ALLOWED_PATHS="${CORSPROXY_ALLOWED_PATHS:-/rtm/,/rtc/,/rte/,/chat/,/getToken,/v1/tokens,/v1/tokens/diagnose}"
export WEBDEMO_LISTEN="$listen_host:$p_demo"
export WEBDEMO_PROXY_URL="http://localhost:$p_proxy/"
# No drain on stop: nothing routes to these programs but this machine, and stop_all sends SIGTERM.
export TOKENSERVER_TIMEOUTS_DRAIN="${TOKENSERVER_TIMEOUTS_DRAIN:-0}"
export CORSPROXY_TIMEOUTS_DRAIN="${CORSPROXY_TIMEOUTS_DRAIN:-0}"
export WEBDEMO_TIMEOUTS_DRAIN="${WEBDEMO_TIMEOUTS_DRAIN:-0}"

# --- build --------------------------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "go is not on PATH: install Go 1.26 from https://go.dev/dl/"
bin_dir=${RUN_BIN_DIR:-bin}
mkdir -p "$bin_dir" || die "cannot create $bin_dir"
bin_dir=$(cd "$bin_dir" && pwd)
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}

stopping=""
trap 'stopping=INT' INT
trap 'stopping=TERM' TERM
trap 'stopping=HUP' HUP

# One go build for the three modules (go.work ties them together): packages they share
# compile once and the three links run in parallel, about twice as fast as three builds.
# A binary already up to date in bin_dir is not linked again. GOWORK is set so that a
# GOWORK=off in the caller's environment cannot break the build.
say "building tokenserver corsproxy webdemo into $bin_dir (version $version)"
# A fresh clone has no binaries yet, and its first build compiles every dependency: say so
# before it starts. Any build that runs past a couple of seconds (a cold cache) shows what it
# is compiling every few seconds, as N of about M packages (M: go list -deps, the most a
# build compiles); a warm rebuild finishes before the first line is due.
if ! [ -x "$bin_dir/tokenserver" ] || ! [ -x "$bin_dir/corsproxy" ] || ! [ -x "$bin_dir/webdemo" ]; then
	say "the first build compiles about 580 packages (gin, viper, Prometheus, ...): measured 2½ to 10 minutes on a 2-core machine, depending on its load; progress every 5 s"
fi
build_log=$(mktemp "${TMPDIR:-/tmp}/signaling-auth-build.XXXXXX") || die "mktemp failed"
deps_list="$build_log.deps"
# go build -v names each package as it compiles it (none when everything is cached).
GOWORK="$PWD/go.work" go build -v -ldflags "-X main.version=$version" -o "$bin_dir/" ./tokenserver ./corsproxy ./webdemo >"$build_log" 2>&1 &
build_pid=$!
build_start=$SECONDS
next_tick=$((SECONDS + 2))
deps_pid=""
while kill -0 "$build_pid" 2>/dev/null; do
	if [ -n "$stopping" ]; then
		kill -TERM "$build_pid" 2>/dev/null
		wait "$build_pid" 2>/dev/null
		[ -n "$deps_pid" ] && kill -TERM "$deps_pid" 2>/dev/null && wait "$deps_pid" 2>/dev/null
		rm -f "$build_log" "$deps_list"
		say "stopped"
		exit 0
	fi
	if [ "$SECONDS" -ge "$next_tick" ]; then
		if [ -z "$deps_pid" ]; then
			# a slow build, so worth counting what it may compile (in the background)
			GOWORK="$PWD/go.work" go list -deps ./tokenserver ./corsproxy ./webdemo >"$deps_list" 2>/dev/null &
			deps_pid=$!
		fi
		compiled=$(grep -c -v ' ' "$build_log")
		current=$(grep -v ' ' "$build_log" | tail -n 1)
		total=""
		if ! kill -0 "$deps_pid" 2>/dev/null; then
			total=$(grep -c . "$deps_list" 2>/dev/null)
			[ "$total" = 0 ] && total=""
		fi
		if [ "$compiled" = 0 ]; then
			say "still building... ($((SECONDS - build_start)) s, loading the packages)"
		elif [ -n "$total" ]; then
			say "still building... ($((SECONDS - build_start)) s, $compiled of about $total packages, now $current)"
		else
			say "still building... ($((SECONDS - build_start)) s, $compiled packages compiled, now $current)"
		fi
		next_tick=$((SECONDS + 5))
	fi
	sleep 0.2
done
[ -n "$deps_pid" ] && wait "$deps_pid" 2>/dev/null
rm -f "$deps_list"
wait "$build_pid"
build_status=$?
if [ -n "$stopping" ]; then
	rm -f "$build_log"
	say "stopped"
	exit 0
fi
if [ "$build_status" != 0 ]; then
	# the compiler's messages, without the package names -v printed
	grep ' ' "$build_log" >&2
	rm -f "$build_log"
	die "the build failed (above)"
fi
rm -f "$build_log"

# --- start --------------------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/signaling-auth-run.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

names=()   # program name per child
pids=()    # program pid per child (the program itself: env and the redirections exec into it)
status=()  # exit status once reaped, "" while running
filters=() # one reader per child that prefixes its lines; it outlives the program, see start

config_flag() { # the --config flag for a program, when its file exists
	if [ -f "configs/$1.yaml" ]; then printf '%s\n' --config "configs/$1.yaml"; fi
}

# start NAME ARGV...: the program writes into a FIFO read by a filter that ignores
# INT/TERM/HUP, so Ctrl-C cannot kill the reader while the program still logs its shutdown
# (a Go program writing to a closed stdout dies of SIGPIPE). Both are children of this
# shell, so no process of ours can outlive it unnoticed.
start() {
	local name=$1
	shift
	mkfifo "$tmp/$name.fifo" || die "mkfifo failed"
	(
		trap '' INT TERM HUP
		exec 3>"$tmp/$name.log"
		while IFS= read -r line || [ -n "$line" ]; do
			printf '%-11s | %s\n' "$name" "$line"
			printf '%s\n' "$line" >&3
		done
	) <"$tmp/$name.fifo" &
	filters+=("$!")
	"$@" >"$tmp/$name.fifo" 2>&1 </dev/null &
	pids+=("$!")
	names+=("$name")
	status+=("")
}

cfg_token=()
cfg_proxy=()
cfg_demo=()
while IFS= read -r a; do cfg_token+=("$a"); done < <(config_flag tokenserver)
while IFS= read -r a; do cfg_proxy+=("$a"); done < <(config_flag corsproxy)
while IFS= read -r a; do cfg_demo+=("$a"); done < <(config_flag webdemo)

start tokenserver "$bin_dir/tokenserver" ${cfg_token[@]+"${cfg_token[@]}"}
start corsproxy "${no_cert[@]}" "$bin_dir/corsproxy" ${cfg_proxy[@]+"${cfg_proxy[@]}"}
start webdemo "${no_cert[@]}" "$bin_dir/webdemo" ${cfg_demo[@]+"${cfg_demo[@]}"}

# check I: 0 when child I answers its healthcheck (the program's own subcommand, so no curl
# is needed; corsproxy's looks at its admin listener).
# The healthcheck loads the same configuration as the program, so it gets the same
# environment: the token server's includes the certificate.
check() {
	local i=$1 name=${names[$1]} cfg env_cmd=("${no_cert[@]}")
	case $name in
	tokenserver) cfg=(${cfg_token[@]+"${cfg_token[@]}"}) env_cmd=(env) ;;
	corsproxy) cfg=(${cfg_proxy[@]+"${cfg_proxy[@]}"}) ;;
	webdemo) cfg=(${cfg_demo[@]+"${cfg_demo[@]}"}) ;;
	esac
	with_timeout 3 "$tmp/$name.check" "${env_cmd[@]}" "$bin_dir/$name" healthcheck ${cfg[@]+"${cfg[@]}"}
}

# with_timeout SECONDS OUTFILE ARGV...: run ARGV with its output in OUTFILE; fail if it
# fails or is still running after SECONDS (a port held by a stranger may accept and never
# answer). coreutils timeout is not on every machine (macOS).
with_timeout() {
	local limit=$(($1 * 10)) out=$2 n=0 pid
	shift 2
	"$@" >"$out" 2>&1 </dev/null &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$n" -ge "$limit" ]; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 1
		fi
		n=$((n + 1))
		sleep 0.1
	done
	wait "$pid"
}

# wait_for PID: reap PID and set st to its exit status. A trapped signal (Ctrl-C reaching
# this script while it reaps a program that Ctrl-C already stopped) interrupts wait with a
# status above 128 without reaping: then wait again. For a child that was reaped, the second
# wait says 127 and the first status was its own.
wait_for() {
	local again
	wait "$1"
	st=$?
	if [ "$st" -gt 128 ]; then
		wait "$1" 2>/dev/null
		again=$?
		[ "$again" != 127 ] && st=$again
	fi
}

# reap: set gone to the index of a child that has exited (recording its status), or to "".
# Not a $(...) function: wait only works on this shell's own children.
reap() {
	local i
	gone=""
	for i in "${!pids[@]}"; do
		if [ -z "${status[$i]}" ] && ! kill -0 "${pids[$i]}" 2>/dev/null; then
			wait_for "${pids[$i]}"
			status[i]=$st
			gone=$i
			return
		fi
	done
}

# stop_all: SIGTERM every running child, wait for them (SIGKILL after RUN_STOP_TIMEOUT),
# then wait for the filters to drain their last lines.
stop_all() {
	local i deadline alive
	for i in "${!pids[@]}"; do
		[ -z "${status[$i]}" ] && kill -TERM "${pids[$i]}" 2>/dev/null
	done
	deadline=$((SECONDS + ${RUN_STOP_TIMEOUT:-15}))
	while :; do
		alive=0
		for i in "${!pids[@]}"; do
			[ -z "${status[$i]}" ] && kill -0 "${pids[$i]}" 2>/dev/null && alive=1
		done
		[ "$alive" = 0 ] && break
		if [ "$SECONDS" -ge "$deadline" ]; then
			for i in "${!pids[@]}"; do
				if [ -z "${status[$i]}" ] && kill -0 "${pids[$i]}" 2>/dev/null; then
					say "${names[$i]} did not stop within ${RUN_STOP_TIMEOUT:-15}s; killing it"
					kill -KILL "${pids[$i]}" 2>/dev/null
				fi
			done
			break
		fi
		sleep 0.1
	done
	for i in "${!pids[@]}"; do
		if [ -z "${status[$i]}" ]; then
			wait_for "${pids[$i]}"
			status[i]=$st
		fi
	done
	wait "${filters[@]}" 2>/dev/null
}

# died I: a child exited on its own. Stop the rest and end with its own last line, which
# for a start-up failure is the program's one-line error (e.g. the port in use).
died() {
	local i=$1 last code=${status[$1]}
	say "${names[$i]} exited with status $code; stopping the others"
	stop_all
	if [ "$code" -gt 128 ]; then
		# killed: its last log line is some earlier request, not the reason
		last="${names[$i]}: killed by signal $((code - 128)) ($(kill -l $((code - 128)) 2>/dev/null))"
	else
		last=$(tail -n 1 "$tmp/${names[$i]}.log" 2>/dev/null)
	fi
	printf '%s\n' "${last:-${names[$i]}: exited with status $code}" >&2
	exit 1
}

# finish: stop on a signal. Exit 0 only when every program shut down cleanly.
finish() {
	local i rc=0
	say "stopping ${names[*]}"
	stop_all
	for i in "${!pids[@]}"; do
		if [ "${status[$i]}" != 0 ]; then
			say "${names[$i]} exited with status ${status[$i]} while stopping"
			rc=1
		fi
	done
	[ "$rc" = 0 ] && say "stopped"
	exit "$rc"
}

# handle_gone: after reap, act on the child that exited, if any. Ctrl-C in a terminal
# signals the whole process group: the programs get SIGINT at the same moment as this
# script and may exit (status 0, their clean stop) before bash has run the trap. A program
# only exits 0 when it was told to stop, so that is a stop, not a death.
handle_gone() {
	[ -z "$gone" ] && return
	if [ "${status[$gone]}" = 0 ]; then
		stopping=${stopping:-INT}
		finish
	fi
	died "$gone"
}

# --- wait until ready -----------------------------------------------------------------------
ready=(0 0 0)
deadline=$((SECONDS + ${RUN_READY_TIMEOUT:-60}))
while :; do
	[ -n "$stopping" ] && finish
	reap
	handle_gone
	all=1
	for i in "${!pids[@]}"; do
		if [ "${ready[$i]}" = 0 ]; then
			if check "$i"; then ready[i]=1; else all=0; fi
		fi
	done
	if [ "$all" = 1 ]; then
		# a stranger holding a port may answer /healthz for a child that just died of it
		reap
		handle_gone
		break
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		for i in "${!pids[@]}"; do
			if [ "${ready[$i]}" = 0 ]; then
				say "${names[$i]} did not answer /healthz within ${RUN_READY_TIMEOUT:-60}s; its healthcheck said:"
				sed 's/^/    /' "$tmp/${names[$i]}.check" 2>/dev/null
			fi
		done
		stopping=timeout
		stop_all
		exit 1
	fi
	sleep 0.2
done

if [ -z "${TOKENSERVER_AGORA_APP_CERTIFICATE:-}${TOKENSERVER_AGORA_APP_CERTIFICATE_FILE:-}" ]; then
	say "no App Certificate (AGORA_APP_CERTIFICATE or AGORA_APP_CERTIFICATE_FILE in $env_file): the token server runs in demo mode (see configs/.env.example)"
fi
say "tokenserver $listen_host:$p_token, corsproxy $listen_host:$p_proxy (admin $listen_host:$p_admin), webdemo $listen_host:$p_demo are up; Ctrl-C stops them"
printf 'Open http://localhost:%s/authentication_guide/\n' "$p_demo"

# --- run until a signal or a death -------------------------------------------------------------
while :; do
	[ -n "$stopping" ] && finish
	reap
	handle_gone
	sleep 0.5
done
