# verify.yml: where the processes of the runner service run. Arguments: the unit,
# the benchmark CPU list. Prints JSON: how many processes, those that are not
# benchmark workers yet may run on a benchmark CPU, and benchmark workers
# (perfagent.measure.*worker) not pinned to exactly one benchmark CPU.
import json, subprocess, sys

def cpus(text):
    found = set()
    for part in filter(None, text.replace(" ", "").split(",")):
        low, _, high = part.partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return found

unit, bench = sys.argv[1], cpus(sys.argv[2])
group = subprocess.run(["systemctl", "show", "-p", "ControlGroup", "--value", unit],
                       capture_output=True, text=True).stdout.strip()
pids = []
if group:
    try:
        with open(f"/sys/fs/cgroup{group}/cgroup.procs") as procs:
            pids = procs.read().split()
    except OSError:
        pass
misplaced, not_pinned, seen = [], [], 0
for pid in pids:
    try:
        with open(f"/proc/{pid}/status") as status:
            allowed = next(l.split(":", 1)[1] for l in status if l.startswith("Cpus_allowed_list:"))
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            command = cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except (OSError, StopIteration):
        continue
    seen += 1
    on = cpus(allowed.strip())
    entry = f"{pid} [{allowed.strip()}] {command[:120]}"
    if "perfagent.measure." in command and "worker" in command:
        if len(on) != 1 or not on <= bench:
            not_pinned.append(entry)
    elif on & bench:
        misplaced.append(entry)
print(json.dumps({"processes": seen, "misplaced": misplaced, "workers_not_pinned": not_pinned}))
