"""The case command (Examples/analyze_case.py) as a researcher runs it, on the THA Phantom written
as a real case (a DICOM series by pydicom, the stem as STL): the per-zone cortical fractions
against the phantom's truth, the files a methods section needs (summary.json with the inputs'
checksums and versions, a self-contained report.html), the implant in RAS found and turned, and
each bad input (a file that is not a CT, a missing CT, the implant in metres, the implant forced
to the wrong frame, the implant outside the CT) one line on stderr and exit status 2, never a
traceback.

Run by ctest with the system python3; starts pvpython itself."""
import csv
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ibctest  # noqa: E402

checks = ibctest.Checker("RunAnalyzeCase")
here = os.path.dirname(os.path.abspath(__file__))
command = os.path.join(here, "..", "..", "Examples", "analyze_case.py")
pvpython = os.environ["IBC_PVPYTHON"]
out = ibctest.fresh_output_dir("analyze-case")
case = os.path.join(out, "case")
stage = subprocess.run([pvpython, os.path.join(here, "WriteCaseFiles.py"), "--output", case],
                       capture_output=True, text=True, timeout=600)
checks.check(stage.returncode == 0, "the phantom written as a DICOM series and STL files")
if stage.returncode != 0:
    print(stage.stdout[-2000:], stage.stderr[-2000:])
    checks.finish()
truth = json.load(open(os.path.join(case, "truth.json")))


def run(name, *arguments):
    result = subprocess.run([pvpython, command, "--plugin", ibctest.plugin_path(), "--no-images",
                             "--output", os.path.join(out, name)] + list(arguments),
                            capture_output=True, text=True, timeout=600)
    return result


# --- The case: DICOM folder and STL.
result = run("good", "--ct", os.path.join(case, "DICOM"), "--implant", os.path.join(case, "stem.stl"))
checks.check(result.returncode == 0, "the case runs (exit status %d)" % result.returncode)
if result.returncode != 0:
    print(result.stderr[-3000:])
else:
    rows = list(csv.DictReader(open(os.path.join(out, "good", "zones.csv"))))
    errors = {int(r["Zone"]): abs(float(r["CorticalFraction"]) - truth["cortical_fraction"][r["Zone"]])
              for r in rows}
    print("zone: |cortical fraction - truth|", {z: round(e, 3) for z, e in sorted(errors.items())})
    checks.check(len(rows) == 15 and max(errors.values()) <= 0.06,
                 "every zone's cortical fraction within 0.06 of the phantom's truth (worst %.3f)" % max(errors.values()))
    summary = json.load(open(os.path.join(out, "good", "summary.json")))
    checks.check(summary["inputs"]["ct"]["files"] == truth["slices"] and len(summary["inputs"]["ct"]["sha256"]) == 64
                 and "sha256" in summary["inputs"]["implant"] and summary["versions"]["paraview"].startswith("5.")
                 and summary["settings"]["implant_coordinates"] == "LPS",
                 "summary.json: checksums of the %d slices and the STL, versions, the settings" % truth["slices"])
    report = open(os.path.join(out, "good", "report.html")).read()
    checks.check(report.count("<tr>") == 16 and "Gruen zone" in report and
                 not any(link in report for link in ('src="http', "href=\"http", "url(http")),
                 "report.html: the table (15 zones), self-contained (no external resource)")
    checks.check(os.path.getsize(os.path.join(out, "good", "stem.vtp")) > 0, "stem.vtp written")
    import xml.etree.ElementTree as ElementTree
    svg = ElementTree.parse(os.path.join(out, "good", "zone_diagram.svg")).getroot()
    namespace = "{http://www.w3.org/2000/svg}"
    polygons = [p for p in svg.iter(namespace + "polygon") if p.get("class") == "zone"]
    written = {int(t.get("data-zone")): t.text for t in svg.iter(namespace + "text") if t.get("class") == "value"}
    expected = {int(r["Zone"]): "%.0f%%" % (100 * float(r["CorticalFraction"])) for r in rows if int(r["Zone"]) > 0}
    checks.check(len(polygons) == 14 and written == expected and "<svg" in report,
                 "zone_diagram.svg: the 14 zones of both views, each with its cortical fraction from zones.csv; "
                 "embedded in report.html")

# --- Without a surface: the implant extracted from the CT, or the CAD stem registered onto it.
for name, arguments in [("extracted", []), ("registered", ["--cad", os.path.join(case, "stem.stl"), "--register"])]:
    result = run(name, "--ct", os.path.join(case, "DICOM"), *arguments)
    rows = list(csv.DictReader(open(os.path.join(out, name, "zones.csv")))) if result.returncode == 0 else []
    worst = max((abs(float(r["CorticalFraction"]) - truth["cortical_fraction"][r["Zone"]]) for r in rows),
                default=float("nan"))
    # 0.08: the extracted surface is 0.06-0.11 mm from the true stem on this small DICOM case,
    # and the smallest zones hold a few dozen vertices.
    checks.check(len(rows) == 15 and worst <= 0.08,
                 "implant %s: every zone's cortical fraction within 0.08 of the truth (worst %.3f)" % (name, worst))

# --- The implant saved from 3D Slicer (RAS): found and turned into the CT's LPS.
result = run("ras", "--ct", os.path.join(case, "DICOM"), "--implant", os.path.join(case, "stem_ras.stl"))
good_rows = list(csv.DictReader(open(os.path.join(out, "good", "zones.csv")))) if os.path.exists(
    os.path.join(out, "good", "zones.csv")) else []
ras_rows = list(csv.DictReader(open(os.path.join(out, "ras", "zones.csv")))) if result.returncode == 0 else []
same = len(ras_rows) == len(good_rows) == 15 and all(
    abs(float(a["CorticalFraction"]) - float(b["CorticalFraction"])) < 1e-6 for a, b in zip(ras_rows, good_rows))
checks.check(result.returncode == 0 and same and "RAS" in result.stdout,
             "an implant in RAS: found, turned, the same table, and said so")

# --- Bad inputs: one line, exit status 2, no traceback.
for name, arguments, words in [
        ("not a CT", ["--ct", os.path.join(case, "stem.stl"), "--implant", os.path.join(case, "stem.stl")],
         "not a CT volume"),
        ("missing CT", ["--ct", os.path.join(case, "nothing"), "--implant", os.path.join(case, "stem.stl")],
         "does not exist"),
        ("implant in metres", ["--ct", os.path.join(case, "DICOM"), "--implant", os.path.join(case, "stem_metres.stl")],
         "metres"),
        ("RAS implant forced to LPS", ["--ct", os.path.join(case, "DICOM"), "--implant",
                                       os.path.join(case, "stem_ras.stl"), "--implant-coordinates", "LPS"], "RAS"),
        ("missing implant", ["--ct", os.path.join(case, "DICOM"), "--implant", os.path.join(case, "no.stl")],
         "does not exist")]:
    result = run("bad", *arguments)
    lines = [line for line in result.stderr.splitlines() if line.startswith("analyze_case:")]
    checks.check(result.returncode == 2 and len(lines) == 1 and words in lines[0] and "Traceback" not in result.stderr,
                 "%s: exit status %d, one line: %s" % (name, result.returncode, lines[0] if lines else result.stderr[-300:]))
# --- The cohort: three cases, one broken on purpose (its implant in metres).
cohort = os.path.join(out, "cohort")
manifest = os.path.join(case, "cases.csv")
with open(manifest, "w") as f:
    f.write("case,ct,implant,side\n")
    f.write("patient01,DICOM,stem.stl,\n")
    f.write("patient02,DICOM,stem_ras.stl,Right\n")
    f.write("patient03,DICOM,stem_metres.stl,\n")
cohort_command = [pvpython, os.path.join(here, "..", "..", "Examples", "analyze_cohort.py"), "--cases", manifest,
                  "--output", cohort, "--plugin", ibctest.plugin_path(), "--no-images", "--jobs", "2"]
result = subprocess.run(cohort_command, capture_output=True, text=True, timeout=900)
failures = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
summary_path = os.path.join(cohort, "cohort_summary.csv")
zones_path = os.path.join(cohort, "cohort_zones.csv")
summary_rows = list(csv.DictReader(open(summary_path))) if os.path.exists(summary_path) else []
zone_rows = list(csv.DictReader(open(zones_path))) if os.path.exists(zones_path) else []
checks.check(result.returncode == 1 and len(failures) == 1 and "patient03" in failures[0] and "metres" in failures[0]
             and [r["status"] for r in summary_rows] == ["done", "done", "failed"] and len(zone_rows) == 30
             and "case 3 of 3" in result.stdout,
             "cohort of three with one broken: two results (30 zone rows), one failure line (%s), exit status %d"
             % (failures[0] if failures else result.stderr[-300:], result.returncode))
again = subprocess.run(cohort_command, capture_output=True, text=True, timeout=900)
summary_rows = list(csv.DictReader(open(summary_path))) if os.path.exists(summary_path) else []
checks.check(again.returncode == 1 and [r["status"] for r in summary_rows][:2] == ["done (earlier run)"] * 2,
             "a rerun skips the finished cases and retries the failed one")
checks.finish()
