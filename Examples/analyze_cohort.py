"""Contact analysis of a cohort: the case command (analyze_case.py) for every row of a manifest.

    pvpython Examples/analyze_cohort.py --cases cases.csv --output DIR [--jobs N] [--force]

The manifest has one row per case, the columns `case,ct,implant,side` and optionally
`cad,register,resection_level,implant_coordinates,edge_length` (the case command's options;
empty cells take its defaults; relative paths are relative to the manifest). Writes DIR/<case>/
(the case command's results), `cohort_zones.csv` (one row per case and zone), `cohort_summary.csv`
(one row per case: status, seconds, the reason of a failure) and `cohort.log` (everything the
cases printed). A failed case gets one line and does not stop the others; the exit status is
the number of failed cases (0: all done). A rerun skips the cases already done unless --force.
`--jobs N` runs N cases at a time (each is itself multi-threaded: N = cores / 2 is plenty)."""
import argparse
import concurrent.futures
import csv
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OPTIONS = {"implant": "--implant", "cad": "--cad", "side": "--side", "resection_level": "--resection-level",
           "implant_coordinates": "--implant-coordinates", "edge_length": "--edge-length"}
PATHS = ("ct", "implant", "cad")
# The case command needs ParaView's Python: pvpython, or this interpreter if it is one.
PVPYTHON = os.environ.get("IBC_PVPYTHON") or shutil.which("pvpython") or sys.executable


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", required=True, help="the manifest (CSV)")
    parser.add_argument("--output", required=True, help="the cohort's results folder")
    parser.add_argument("--jobs", type=int, default=1, help="cases run at a time (default 1)")
    parser.add_argument("--force", action="store_true", help="rerun the cases already done")
    parser.add_argument("--plugin", help="path of ImplantBoneContact.so (default: the build tree's)")
    parser.add_argument("--no-images", action="store_true", help="skip the pictures")
    return parser.parse_args()


def read_manifest(path):
    """The manifest's rows, paths made absolute; exits with one line on a malformed manifest."""
    if not os.path.isfile(path):
        sys.exit("analyze_cohort: the manifest '%s' does not exist" % path)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "case" not in rows[0] or "ct" not in rows[0]:
        sys.exit("analyze_cohort: the manifest '%s' needs a header with at least the columns case,ct" % path)
    folder = os.path.dirname(os.path.abspath(path))
    names = set()
    for number, row in enumerate(rows, start=2):
        name = (row.get("case") or "").strip()
        if not name or name in names or os.sep in name:
            sys.exit("analyze_cohort: line %d of the manifest: the case name %r is empty, repeated or holds a '%s'"
                     % (number, name, os.sep))
        names.add(name)
        for key in PATHS:
            value = (row.get(key) or "").strip()
            row[key] = os.path.join(folder, value) if value and not os.path.isabs(value) else value
    return rows


def case_command(row, args):
    command = [PVPYTHON, os.path.join(HERE, "analyze_case.py"), "--ct", row["ct"],
               "--output", os.path.join(args.output, row["case"])]
    for key, option in OPTIONS.items():
        value = (row.get(key) or "").strip()
        if value:
            command += [option, value]
    if (row.get("register") or "").strip().lower() in ("1", "yes", "true"):
        command.append("--register")
    if args.plugin:
        command += ["--plugin", args.plugin]
    if args.no_images:
        command.append("--no-images")
    return command


def run_case(row, args):
    """(case, status, seconds, reason, output) of one case."""
    started = time.time()
    result = subprocess.run(case_command(row, args), capture_output=True, text=True)
    seconds = time.time() - started
    reason = ""
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.startswith("analyze_case:")]
        reason = (lines[0][len("analyze_case:"):].strip() if lines else
                  (result.stderr.strip().splitlines() or ["exit status %d" % result.returncode])[-1])
    return row["case"], "done" if result.returncode == 0 else "failed", seconds, reason, \
        result.stdout + result.stderr


def collect_zones(rows, output):
    """cohort_zones.csv: every done case's zone table, the case name first."""
    written = None
    with open(os.path.join(output, "cohort_zones.csv"), "w", newline="") as f:
        for row in rows:
            path = os.path.join(output, row["case"], "zones.csv")
            if not os.path.exists(path):
                continue
            with open(path, newline="") as zones:
                reader = csv.DictReader(zones)
                if written is None:
                    written = csv.DictWriter(f, fieldnames=["case"] + reader.fieldnames)
                    written.writeheader()
                for zone in reader:
                    written.writerow({"case": row["case"], **zone})


def main():
    args = parse_arguments()
    rows = read_manifest(args.cases)
    os.makedirs(args.output, exist_ok=True)
    results = {}
    pending = []
    for row in rows:
        if not args.force and os.path.exists(os.path.join(args.output, row["case"], "summary.json")):
            results[row["case"]] = (row["case"], "done (earlier run)", 0.0, "", "")
        else:
            pending.append(row)
    started = time.time()
    with open(os.path.join(args.output, "cohort.log"), "a") as log, \
            concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_case, row, args) for row in pending]
        for finished, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            name, status, seconds, reason, output = future.result()
            results[name] = (name, status, seconds, reason, output)
            log.write("=== %s: %s (%.1f s)\n%s\n" % (name, status, seconds, output))
            log.flush()
            elapsed = time.time() - started
            left = elapsed / finished * (len(pending) - finished)
            print("case %d of %d: %s %s in %.0f s%s; elapsed %.0f s, about %.0f s left" % (
                finished, len(pending), name, status, seconds, ": " + reason if reason else "", elapsed, left),
                flush=True)
    with open(os.path.join(args.output, "cohort_summary.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["case", "status", "seconds", "reason"])
        for row in rows:
            name, status, seconds, reason, _ = results[row["case"]]
            writer.writerow([name, status, round(seconds, 1), reason])
    collect_zones(rows, args.output)
    failed = [results[row["case"]] for row in rows if results[row["case"]][1] == "failed"]
    for name, _, _, reason, _ in failed:
        print("FAILED %s: %s" % (name, reason), file=sys.stderr)
    print("%d of %d cases done, %d failed; results in %s" % (len(rows) - len(failed), len(rows), len(failed),
                                                            os.path.abspath(args.output)))
    sys.exit(min(len(failed), 125))


main()
