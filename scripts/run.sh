#!/usr/bin/env bash
# `make run`: sets everything up and serves the demo, one announced and timed stage
# at a time: packages, Node packages, the map bundle, the Go build, the database,
# the migrations, the demo, then the server. The Makefile passes the settings:
#   PG_PORT     the local cluster's port (.data/pg)      LISTEN     the server's address
#   DEMO_ROWS   reports in the demo                      DEMO_YEARS the demo's span
#   BIN GO LDFLAGS MAKE UI_DIR UI_OUT, and TENSIONMAP_DATA_DIR (exported).
set -euo pipefail

: "${BIN:=bin/tensionmap}" "${GO:=go}" "${LDFLAGS:=}" "${MAKE:=make}"
: "${PG_PORT:=55432}" "${LISTEN:=:8080}" "${DEMO_ROWS:=50000}" "${DEMO_YEARS:=5}"
: "${UI_DIR:=web/ui}" "${UI_OUT:=web/static/dist/map.js}" "${TENSIONMAP_DATA_DIR:=.data}"
DATA_DIR=$TENSIONMAP_DATA_DIR
STAGES=8
tty=false
[ -t 1 ] && tty=true

bold() { if $tty; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
now() { date +%s.%N; }

# took START: the time since START, as a person reads it ("4.2 s", "2 min 31 s").
took() {
	awk -v s="$1" -v e="$(now)" 'BEGIN { d = e - s;
		if (d < 10) printf "%.1f s", d;
		else if (d < 60) printf "%d s", d + 0.5;
		else printf "%d min %02d s", int((d + 0.5) / 60), int(d + 0.5) % 60 }'
}

# minutes LO HI: a range of seconds as a person reads it ("3 to 6 minutes").
minutes() {
	local a=$((($1 + 30) / 60)) b=$((($2 + 59) / 60))
	[ "$a" -ge 1 ] || a=1
	if [ "$a" -ge "$b" ]; then echo "about $b minute$([ "$b" = 1 ] || echo s)"; else echo "$a to $b minutes"; fi
}

stage_no=0
stage_start=
# stage TITLE: announces the next stage.
stage() {
	stage_no=$((stage_no + 1))
	stage_start=$(now)
	bold "[$stage_no/$STAGES] $*"
}
# done_ [NOTE]: closes the stage with its time.
done_() { printf '      %sdone in %s\n' "${1:+$1; }" "$(took "$stage_start")"; }

sudo_() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}
apt_install() {
	echo "      installing with apt-get: $*"
	export DEBIAN_FRONTEND=noninteractive
	sudo_ apt-get update -q
	sudo_ apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "$@"
}

# pg_major: the highest PostgreSQL major version whose server is installed.
pg_major() {
	local d best=
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] || continue
		d=${d%/bin}; d=${d##*/}
		if [ -z "$best" ] || [ "${d%%.*}" -gt "${best%%.*}" ]; then best=$d; fi
	done
	echo "$best"
}

# What the first run has to do, and what each part costs on a 2-core machine, as
# seconds from an idle machine (lo) to a busy one (hi). Measured: a cold Go build
# compiled 366 packages in 2.5 min on an idle machine and in 4 min 38 s beside other
# builds and tests (0.4 to 0.8 s a package, most of it in h3-go's C); npm ci took 4 to
# 10 s; a new cluster 10 to 15 s; the demo of 50,000 reports 13 s.
total_start=$(now)
lo=0 hi=0
notes=()
cost() { lo=$((lo + $1)) hi=$((hi + $2)); notes+=("$3"); }
need_node=false need_pg=false need_postgis=false
command -v npm >/dev/null || { need_node=true; cost 30 90 "install Node"; }
major=$(pg_major)
if [ -z "$major" ]; then
	need_pg=true need_postgis=true
	cost 60 180 "install PostgreSQL and PostGIS"
elif [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
	need_postgis=true
	cost 30 120 "install PostGIS"
fi
npm_due=true
[ -f "$UI_DIR/node_modules/.package-lock.json" ] && $MAKE -s -q "$UI_DIR/node_modules/.package-lock.json" 2>/dev/null && npm_due=false
$npm_due && cost 5 60 "install the map's Node packages"
# Packages the Go build has to compile (not in Go's build cache). GOPROXY=off: when
# modules are still to be downloaded this fails at once, and the build downloads them.
go_build_note=
if stale_list=$(GOPROXY=off $GO list -deps -f '{{if .Stale}}{{.ImportPath}}{{end}}' ./cmd/tensionmap 2>/dev/null); then
	stale=$(printf '%s\n' "$stale_list" | grep -c . || true)
	total_pkgs=$(GOPROXY=off $GO list -deps ./cmd/tensionmap 2>/dev/null | grep -c . || true)
	if [ "$stale" -gt 50 ]; then
		cost $((stale * 4 / 10)) $((stale * 8 / 10)) "compile $stale Go packages"
		go_build_note=": $stale of $total_pkgs packages to compile, $(minutes $((stale * 4 / 10)) $((stale * 8 / 10))) on 2 cores, once"
	fi
else
	stale=400 total_pkgs=400
	cost 180 420 "download and compile the Go modules"
	go_build_note=": downloads the Go modules and compiles about $total_pkgs packages, $(minutes 180 420) on 2 cores, once"
fi
if [ ! -f "$DATA_DIR/pg/data/PG_VERSION" ]; then
	cost 10 20 "create the database"
	cost $((DEMO_ROWS * 3 / 10000)) $((DEMO_ROWS * 6 / 10000 + 10)) "load the demo ($DEMO_ROWS reports)"
fi
if [ "$hi" -ge 90 ]; then
	list=${notes[0]}
	for ((i = 1; i < ${#notes[@]}; i++)); do
		if [ $i = $((${#notes[@]} - 1)) ]; then list+=" and ${notes[i]}"; else list+=", ${notes[i]}"; fi
	done
	bold "First run here: it will $list."
	echo "Expect $(minutes $lo $hi) on a 2-core machine (more when it is busy); later runs take under a minute."
	echo
fi

stage "Packages: Go, Node, PostgreSQL and PostGIS"
echo "      $($GO version | sed 's/^go version //')"
if $need_node; then
	apt_install nodejs npm
fi
echo "      Node $(node --version), npm $(npm --version)"
if $need_pg; then
	apt_install postgresql
	major=$(pg_major)
	[ -n "$major" ] || { echo "apt-get installed postgresql but no initdb and pg_ctl were found in /usr/lib/postgresql/*/bin" >&2; exit 1; }
fi
if $need_postgis; then
	apt_install "postgresql-$major-postgis-3"
fi
if [ -n "$major" ]; then
	echo "      PostgreSQL $major with PostGIS $(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "/usr/share/postgresql/$major/extension/postgis.control" 2>/dev/null || echo '?')"
fi
done_

stage "Node packages of the map (npm ci in $UI_DIR)"
if $npm_due; then
	$MAKE -s --no-print-directory "$UI_DIR/node_modules/.package-lock.json"
	done_
else
	done_ "already installed"
fi

stage "Map bundle (esbuild into $(dirname "$UI_OUT"))"
if $MAKE -s -q "$UI_OUT" 2>/dev/null; then
	done_ "up to date"
else
	$MAKE -s --no-print-directory "$UI_OUT" | sed 's/^/      /'
	done_
fi

stage "Go build of $BIN$go_build_note"
# -v names each package as it is compiled: a count shows the build moving.
$GO build -v -ldflags "$LDFLAGS" -o "$BIN" ./cmd/tensionmap 2>&1 | {
	n=0 last=$(date +%s)
	while IFS= read -r line; do
		case $line in
		*' '* | '#'*) printf '%s\n' "$line" >&2; continue ;; # a compiler message, not a package
		esac
		n=$((n + 1))
		if $tty; then
			printf '\r      packages compiled: %d of about %d' "$n" "$stale"
		elif [ $(($(date +%s) - last)) -ge 15 ]; then
			last=$(date +%s)
			printf '      packages compiled: %d of about %d\n' "$n" "$stale"
		fi
	done
	if $tty && [ "$n" -gt 0 ]; then printf '\n'; fi
}
[ "${PIPESTATUS[0]}" = 0 ] || exit 1
done_

stage "Database: PostgreSQL with PostGIS in $DATA_DIR/pg on localhost:$PG_PORT"
# Its messages go straight to the terminal: the PostgreSQL server it starts
# inherits its standard error, which must not be a pipe that ends with this script.
url=$("$BIN" db up --port "$PG_PORT")
export TENSIONMAP_DATABASE_URL=$url
done_

stage "Migrations"
"$BIN" migrate | sed 's/^/      /'
done_

years="$DEMO_YEARS years"
[ "$DEMO_YEARS" = 1 ] && years="a year"
stage "Demo: $DEMO_ROWS reports over $years, loaded once, and a user per role"
"$BIN" demo --load --if-empty --rows "$DEMO_ROWS" --years "$DEMO_YEARS"
"$BIN" users demo
done_

host=${LISTEN%:*} port=${LISTEN##*:}
case $host in "" | 0.0.0.0 | "[::]") host=localhost ;; esac
host=${host#[} && host=${host%]}
web=$host
[[ $host == *:* ]] && web="[$host]"
stage "Server on http://$web:$port (Ctrl-C stops it; \`make db-stop\` stops the database)"
"$BIN" serve --listen "$LISTEN" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' INT TERM
# Ready once /readyz answers 200: the database reachable and every migration applied.
ready=false
while kill -0 "$server" 2>/dev/null; do
	if { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null; then
		printf 'GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" >&3
		read -r -t 10 status <&3 || status=
		exec 3<&- 3>&-
		case $status in *" 200 "*) ready=true; break ;; esac
	fi
	sleep 0.5
done
if $ready; then
	done_ "ready"
	bold "Ready in $(took "$total_start"). Sign in with a demo login from $DATA_DIR/demo-logins.txt and open /map."
fi
status=0
wait "$server" || status=$?
# A trapped Ctrl-C ends the first wait early: wait for the server to finish.
while kill -0 "$server" 2>/dev/null; do wait "$server" || status=$?; done
exit "$status"
