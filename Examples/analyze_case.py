"""Contact analysis of one case: a post-operative CT and the femoral stem in it, to a per-zone
report.

    pvpython Examples/analyze_case.py --ct CT --implant SURFACE --output DIR [options]

CT: a DICOM folder (or any slice in it), NRRD, NIfTI or MetaImage, in HU. Implant: an STL, VTP,
OBJ or PLY surface in the CT's coordinates (millimetres; LPS like DICOM, or RAS as 3D Slicer
saves it: found automatically). Without --implant the implant comes from the CT itself (Implant
Extract), or, with --cad and --register, the CAD stem is registered onto the CT.

The chain: Implant Remesh (--edge-length) -> Normal Offset Probe (metal corrected) -> Cortical
Classify -> Gruen Zone Stats. Writes to DIR:
    zones.csv      the per-zone table (one row per Gruen zone, zone 0 the whole stem)
    stem.vtp       the remeshed stem with HU, TissueClass, InterfaceWidth, GruenZone, ...
    heatmap_<face>_face.png, zones_<face>_face.png   pictures (need a display: xvfb-run)
    zone_diagram.svg   the two-view Gruen zone diagram, each zone filled by its cortical fraction
    summary.json   every setting, the versions, the inputs' checksums, timings, the metal model
    report.html    one self-contained page with the table and the pictures

Each problem with the inputs (the implant outside the CT, in metres, a CT not in HU, a file
that is not a CT) is one line on stderr and exit status 2."""
import argparse
import base64
import contextlib
import hashlib
import html
import json
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PLUGIN = os.path.join(HERE, "..", "build", "lib", "paraview-5.11", "plugins", "ImplantBoneContact",
                              "ImplantBoneContact.so")


class InputProblem(Exception):
    """A problem with the user's inputs: reported as one line, exit status 2."""


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ct", required=True, help="the CT: a DICOM folder or slice, .nrrd, .nii(.gz), .mha/.mhd")
    parser.add_argument("--implant", help="the stem surface in the CT's coordinates (.stl, .vtp, .obj, .ply)")
    parser.add_argument("--cad", help="the CAD stem to register onto the CT (with --register)")
    parser.add_argument("--register", action="store_true", help="register --cad onto the CT (Implant Register)")
    parser.add_argument("--output", required=True, help="the folder the results go to (created)")
    parser.add_argument("--side", choices=["Automatic", "Left", "Right"], default="Automatic",
                        help="which femur (default: from the LPS patient frame)")
    parser.add_argument("--resection-level", type=float, default=-1.0, metavar="MM",
                        help="height of the top of the zones above the stem tip (default: at the calcar)")
    parser.add_argument("--implant-coordinates", choices=["auto", "LPS", "RAS"], default="auto",
                        help="the implant surface's frame (default: whichever puts it inside the CT)")
    parser.add_argument("--edge-length", type=float, default=1.0, metavar="MM",
                        help="edge length of the remeshed stem (default 1 mm)")
    parser.add_argument("--plugin", default=DEFAULT_PLUGIN, help="path of ImplantBoneContact.so")
    parser.add_argument("--no-images", action="store_true", help="skip the pictures")
    args = parser.parse_args()
    if args.register and not args.cad:
        parser.error("--register needs --cad")
    if args.implant and args.cad:
        parser.error("give --implant or --cad, not both")
    if args.edge_length <= 0.0:
        parser.error("--edge-length must be positive")
    return args


@contextlib.contextmanager
def captured_stderr():
    """What VTK and ParaView print on stderr meanwhile, as a list of one string."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+") as sink:
        os.dup2(sink.fileno(), 2)
        text = []
        try:
            yield text
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text.append(sink.read())


def first_error(text, prefix):
    """The first error line that names `prefix` (a filter's message), without VTK's decoration."""
    for line in text.splitlines():
        if prefix in line:
            return line[line.find(prefix):].replace("\x1b[0m", "").strip()
    return None


def checksum(path):
    """SHA-256 of a file, or of a folder's files in name order (a DICOM series)."""
    digest = hashlib.sha256()
    files = [path] if os.path.isfile(path) else sorted(
        os.path.join(root, name) for root, _, names in os.walk(path) for name in names)
    for name in files:
        with open(name, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return {"sha256": digest.hexdigest(), "files": len(files)}


def read_ct(simple, path):
    if not os.path.exists(path):
        raise InputProblem("the CT '%s' does not exist" % path)
    reader = simple.CTVolumeReader(FileName=path)
    with captured_stderr() as text:
        reader.UpdatePipeline()
    info = reader.GetDataInformation()
    if info.GetNumberOfPoints() == 0:
        raise InputProblem(first_error(text[0], "CT Volume Reader:") or "the CT '%s' could not be read" % path)
    hu = info.GetPointDataInformation().GetArrayInformation("HU")
    low, high = hu.GetComponentRange(0)
    if low > -500.0:
        raise InputProblem("the CT's lowest value is %g: a CT in Hounsfield units has air near -1000 around the "
                           "patient; check that the file stores HU (rescale slope and intercept)" % low)
    if high < 1000.0:
        raise InputProblem("the CT's highest value is %g HU: there is no bone or metal in it" % high)
    return reader


def surface_points(servermanager, proxy):
    from vtkmodules.util.numpy_support import vtk_to_numpy
    data = servermanager.Fetch(proxy)
    if data is None or data.GetNumberOfPoints() == 0 or data.GetNumberOfCells() == 0:
        return None
    return vtk_to_numpy(data.GetPoints().GetData())


def share_inside(points, bounds):
    import numpy as np
    inside = np.ones(len(points), dtype=bool)
    for axis in range(3):
        inside &= (points[:, axis] >= bounds[2 * axis]) & (points[:, axis] <= bounds[2 * axis + 1])
    return float(inside.mean())


def place_implant(simple, servermanager, args, ct, notes):
    """The implant surface in the CT's LPS millimetres, checked against the CT."""
    path = args.implant
    if not os.path.isfile(path):
        raise InputProblem("the implant '%s' does not exist" % path)
    with captured_stderr():
        source = simple.OpenDataFile(path)
    if source is None or source.GetXMLName() == "CTVolumeReader":
        raise InputProblem("the implant '%s' is not a surface ParaView reads (STL, VTP, OBJ, PLY)" % path)
    surface = simple.ExtractSurface(Input=source)
    points = surface_points(servermanager, surface)
    if points is None:
        raise InputProblem("the implant '%s' holds no surface" % path)
    size = float((points.max(axis=0) - points.min(axis=0)).max())
    if size < 1.0:
        raise InputProblem("the implant is %.3g units long: it looks like metres; a femoral stem is 100-250 mm "
                           "(scale it by 1000)" % size)
    if size < 40.0 or size > 400.0:
        raise InputProblem("the implant is %.3g units long; a femoral stem is 100-250 mm: check its units" % size)
    bounds = ct.GetDataInformation().GetBounds()
    flipped = points * [-1.0, -1.0, 1.0]
    lps, ras = share_inside(points, bounds), share_inside(flipped, bounds)
    frame = args.implant_coordinates
    if frame == "auto":
        frame = "LPS" if lps >= 0.9 or lps >= ras else "RAS"
    share = lps if frame == "LPS" else ras
    if share < 0.9:
        hint = ""
        if frame == "LPS" and ras >= 0.9:
            hint = "; it fits if it is in RAS (3D Slicer): use --implant-coordinates RAS or auto"
        elif frame == "RAS" and lps >= 0.9:
            hint = "; it fits as LPS: use --implant-coordinates LPS or auto"
        raise InputProblem("the implant lies outside the CT: %.0f %% of its points inside as %s%s" % (
            100 * share, frame, hint or " (is it registered to this CT?)"))
    if frame == "RAS":
        notes.append("implant surface taken as RAS (x and y negated into the CT's LPS)")
        surface = simple.Transform(Input=surface)
        surface.Transform = "Transform"
        surface.Transform.Scale = [-1.0, -1.0, 1.0]
    return surface, frame, share


def implant_from_ct(simple, servermanager, args, ct, notes):
    if args.implant:
        return place_implant(simple, servermanager, args, ct, notes)
    if args.cad:
        if not os.path.isfile(args.cad):
            raise InputProblem("the CAD stem '%s' does not exist" % args.cad)
        with captured_stderr():
            cad = simple.OpenDataFile(args.cad)
        if cad is None:
            raise InputProblem("the CAD stem '%s' is not a surface ParaView reads" % args.cad)
        notes.append("implant: the CAD stem registered onto the CT (Implant Register)")
        return simple.ImplantRegister(Input=simple.ExtractSurface(Input=cad), Target=ct), "registered", 1.0
    notes.append("implant: extracted from the CT (Implant Extract)")
    return simple.ImplantExtract(Input=ct), "extracted", 1.0


def table_rows(servermanager, zones):
    table = servermanager.Fetch(zones, idx=1)
    names = [table.GetColumnName(c) for c in range(table.GetNumberOfColumns())]
    rows = []
    for r in range(table.GetNumberOfRows()):
        rows.append({name: table.GetValueByName(r, name).ToDouble() for name in names})
    return table, names, rows


def write_report(path, args, rows, names, images, summary):
    shown = [n for n in ("Zone", "Area", "CorticalFraction", "CancellousFraction", "SoftTissueFraction",
                         "HUMedian", "InterfaceWidthMean", "InterfaceOver1mmFraction",
                         "InterfaceOver2mmFraction", "ConfidentFraction") if n in names]
    cells = "".join("<th>%s</th>" % html.escape(n) for n in shown)
    body = []
    for row in rows:
        values = []
        for n in shown:
            value = row[n]
            values.append("<td>%s</td>" % ("all" if n == "Zone" and value == 0 else
                                           "%d" % value if n == "Zone" else "%.3g" % value))
        body.append("<tr>%s</tr>" % "".join(values))
    pictures = []
    for name in images:
        with open(os.path.join(args.output, name), "rb") as f:
            encoded = base64.b64encode(f.read()).decode("ascii")
        pictures.append('<figure><img alt="%s" src="data:image/png;base64,%s"><figcaption>%s</figcaption></figure>'
                        % (html.escape(name), encoded, html.escape(name)))
    diagram_path = os.path.join(args.output, "zone_diagram.svg")
    diagram = open(diagram_path).read() if os.path.exists(diagram_path) else ""
    settings = "".join("<li>%s: %s</li>" % (html.escape(k), html.escape(str(v)))
                       for k, v in summary["settings"].items())
    notes = "".join("<li>%s</li>" % html.escape(n) for n in summary["notes"])
    page = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Implant contact: %s</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;
padding:3px 8px;text-align:right}figure{display:inline-block;margin:0.5em}img{width:350px}</style></head>
<body><h1>Implant contact by Gruen zone</h1>
<p>CT <code>%s</code>, implant <code>%s</code>. Fractions are shares of each zone's area whose tissue 1.0-1.5 mm
outside the implant reads cortical (&ge; 800 HU), cancellous or soft, after the metal's blooming is taken
out; zone 0 is the whole stem below the resection level.</p>
<table><tr>%s</tr>%s</table>
<h2>Gruen zones</h2>%s
<h2>Pictures</h2>%s
<h2>Settings</h2><ul>%s</ul><h2>Notes</h2><ul>%s</ul>
<p>ImplantBoneContact %s, ParaView %s.</p></body></html>
""" % (html.escape(os.path.basename(os.path.abspath(args.ct))), html.escape(args.ct),
       html.escape(str(args.implant or args.cad or "extracted from the CT")), cells, "".join(body),
       diagram, "".join(pictures) or "<p>(none: run under xvfb-run)</p>", settings, notes,
       html.escape(summary["versions"]["plugin"]), html.escape(summary["versions"]["paraview"]))
    with open(path, "w") as f:
        f.write(page)


def plugin_version():
    try:
        import subprocess
        return subprocess.run(["git", "-C", HERE, "describe", "--always", "--dirty"], capture_output=True,
                              text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, ValueError):
        return "unknown"


def analyze(args):
    from paraview import servermanager
    from paraview import simple
    if not os.path.isfile(args.plugin):
        raise InputProblem("the plugin '%s' is not built (bash scripts/build.sh), or give --plugin" % args.plugin)
    simple.LoadPlugin(args.plugin, ns=vars(simple))
    sys.path.insert(0, HERE)
    import ibc_pictures
    import ibc_zone_diagram

    os.makedirs(args.output, exist_ok=True)
    timings = {}
    notes = []

    def timed(name, proxy):
        started = time.time()
        with captured_stderr() as text:
            proxy.UpdatePipeline()
        timings[name] = round(time.time() - started, 2)
        for line in text[0].splitlines():
            message = re.search(r"(?:WARN|ERR)\| (?:vtk\w+ \(0x[0-9a-f]+\): )?(.*)", line.replace("\x1b[0m", ""))
            if message:
                notes.append(message.group(1).strip())
        return proxy

    started = time.time()
    ct = read_ct(simple, args.ct)
    timings["read"] = round(time.time() - started, 2)
    implant, frame, inside = implant_from_ct(simple, servermanager, args, ct, notes)
    timed("implant", implant)
    remeshed = timed("remesh", simple.ImplantRemesh(Input=implant, TargetEdgeLength=args.edge_length))
    probe = timed("probe", simple.NormalOffsetProbe(Input=remeshed, Source=ct))
    classified = timed("classify", simple.CorticalClassify(Input=probe))
    zones = timed("zones", simple.GruenZoneStats(Input=classified, Side=args.side,
                                                 ProximalLimit=args.resection_level))
    table, names, rows = table_rows(servermanager, zones)
    if not rows:
        raise InputProblem("no Gruen zone holds any of the implant's surface: is it a femoral stem?")
    simple.SaveData(os.path.join(args.output, "zones.csv"), proxy=simple.OutputPort(zones, 1), Precision=6)
    simple.SaveData(os.path.join(args.output, "stem.vtp"), proxy=simple.OutputPort(zones, 0))
    stem = servermanager.Fetch(zones, idx=0)
    images = [] if args.no_images else ibc_pictures.save_pictures(zones, stem, table, args.output)
    ibc_zone_diagram.write_zone_diagram(rows, os.path.join(args.output, "zone_diagram.svg"))

    field = servermanager.Fetch(probe).GetFieldData()
    metal = {field.GetArrayName(i): field.GetArray(i).GetValue(0) for i in range(field.GetNumberOfArrays())
             if field.GetArray(i) is not None and field.GetArray(i).GetNumberOfTuples() == 1 and
             field.GetArrayName(i).startswith(("Metal", "Points"))}
    manager = servermanager.vtkSMProxyManager
    summary = {
        "settings": {"ct": os.path.abspath(args.ct), "implant": args.implant and os.path.abspath(args.implant),
                     "cad": args.cad and os.path.abspath(args.cad), "register": args.register,
                     "implant_coordinates": frame, "implant_share_inside_ct": round(inside, 4),
                     "side": args.side, "resection_level_mm": args.resection_level,
                     "edge_length_mm": args.edge_length, "probe": "Metal Corrected, contact 1.25 mm",
                     "classes": "Cortical Classify defaults"},
        "versions": {"plugin": plugin_version(), "paraview": "%d.%d.%d" % (
            manager.GetVersionMajor(), manager.GetVersionMinor(), manager.GetVersionPatch())},
        "inputs": {"ct": checksum(args.ct), **({"implant": checksum(args.implant)} if args.implant else {}),
                   **({"cad": checksum(args.cad)} if args.cad else {})},
        "ct_voxels": ct.GetDataInformation().GetNumberOfPoints(),
        "stem_points": stem.GetNumberOfPoints(),
        "metal_model": metal,
        "seconds": timings,
        "notes": notes,
        "files": ["zones.csv", "stem.vtp", "zone_diagram.svg", "summary.json", "report.html"] + images,
    }
    with open(os.path.join(args.output, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    write_report(os.path.join(args.output, "report.html"), args, rows, names, images, summary)

    print("Case %s: stem %d points, seconds %s" % (args.ct, summary["stem_points"], timings))
    print("  zone  cortical  cancellous  soft   HU median")
    for row in rows:
        print("  %4s   %5.2f     %5.2f     %5.2f  %8.1f" % (
            int(row["Zone"]) if row["Zone"] else "all", row.get("CorticalFraction", float("nan")),
            row.get("CancellousFraction", float("nan")), row.get("SoftTissueFraction", float("nan")),
            row.get("HUMedian", float("nan"))))
    for note in notes:
        print("  note: " + note)
    print("Results in %s" % os.path.abspath(args.output))


def main():
    args = parse_arguments()
    try:
        analyze(args)
    except InputProblem as problem:
        print("analyze_case: %s" % problem, file=sys.stderr)
        sys.exit(2)
    except Exception as error:  # what the checks did not foresee: still one line, not a traceback
        print("analyze_case: failed: %s: %s" % (type(error).__name__, error), file=sys.stderr)
        sys.exit(3)


main()
