#!/usr/bin/env bash
# A single-node Slurm cluster for tests, as root: `start DIR` writes a munge key and slurm.conf
# under DIR, starts munged, slurmctld and slurmd, and waits until the node takes jobs; `stop DIR`
# ends them by their pid files. Prints SLURM_CONF=DIR/slurm.conf on success. Exit 77 when Slurm
# or munge is not installed, or this is not root (the caller skips, saying why).
set -euo pipefail
cmd=$1
dir=$(realpath -m "$2")
for b in slurmctld slurmd munged mungekey sbatch squeue sinfo; do
  command -v "$b" >/dev/null || { echo "$b not found: apt-get install slurm-wlm munge" >&2; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "a test cluster needs root (slurmd runs jobs as their user)" >&2; exit 77; }

if [ "$cmd" = stop ]; then
  for p in slurmd slurmctld; do
    [ -f "$dir/$p.pid" ] && kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
  done
  if [ -f "$dir/munge.dir" ]; then
    m=$(cat "$dir/munge.dir")
    [ -f "$m/munged.pid" ] && kill "$(cat "$m/munged.pid")" 2>/dev/null || true
    rm -rf "$m"
  fi
  exit 0
fi

mkdir -p "$dir"/{state,spool,log}
# munged runs as user munge, which cannot enter a test's private temp folder: its key, log and
# pid file go in a folder of its own. Its socket in /run/munge is where Slurm looks for it.
mkdir -p /run/munge && chown munge:munge /run/munge
if ! pgrep -x munged >/dev/null; then
  m=$(mktemp -d /tmp/gafx-munge-XXXXXX)
  echo "$m" > "$dir/munge.dir"
  mungekey -c -k "$m/munge.key" -f
  chown -R munge:munge "$m"
  chmod 700 "$m"
  runuser -u munge -- munged --key-file="$m/munge.key" --pid-file="$m/munged.pid" --log-file="$m/munged.log" \
    --seed-file="$m/seed"
fi
host=$(hostname -s)
cat > "$dir/slurm.conf" <<CONF
ClusterName=gafxtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=$((17000 + RANDOM % 1000))
SlurmdPort=$((18000 + RANDOM % 1000))
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 100); do
  if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
    echo "SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.2
done
echo "the test cluster did not come up; see $dir/log" >&2
sinfo >&2 || true
exit 1
