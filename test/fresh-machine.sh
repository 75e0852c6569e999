#!/usr/bin/env bash
# fresh-machine.sh: checks that the testbed runs on a machine whose kernel
# allows namespaces only "reno bbr" (cubic available but not allowed), as
# fresh machines may, and that it leaves the allowed list as it found it.
# Run as root from the repository (make check runs it). Whatever happens,
# the machine's own list is put back on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
f=/proc/sys/net/ipv4/tcp_allowed_congestion_control
avail=$(cat /proc/sys/net/ipv4/tcp_available_congestion_control)
orig=$(cat "$f")
trap 'echo "$orig" > "$f"' EXIT

narrow=""
for cc in reno bbr; do
	case " $avail " in *" $cc "*) narrow="${narrow:+$narrow }$cc" ;; esac
done
case " $avail " in *" cubic "*) ;; *)
	echo "fresh-machine: this kernel has no TCP cubic (available: $avail); the testbed's default cannot be checked" >&2
	exit 1 ;;
esac
echo "$narrow" > "$f"
want=$(cat "$f")
echo "fresh-machine: allowed congestion controls narrowed to \"$want\"; running the testbed's small case"
CGO_ENABLED=0 go test -count=1 -run '^TestTestbedSmall$' ./test/testbed
got=$(cat "$f")
if [ "$got" != "$want" ]; then
	echo "fresh-machine: the testbed left the allowed list \"$got\", want \"$want\"" >&2
	exit 1
fi
if [ -e /run/lock/pst-testbed.allowed-cc ]; then
	echo "fresh-machine: the testbed left /run/lock/pst-testbed.allowed-cc behind" >&2
	exit 1
fi
echo "fresh-machine: ok, allowed list \"$got\" again after the run"
