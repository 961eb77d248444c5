"""Bone contact on a phantom this project's probe was not developed on: ibcindependentphantom
(written from the physics alone, without reading the THA Phantom's code). For each case: vertex
accuracy of Normal Offset Probe's default mode (Metal Corrected), of Automatic and of fixed offsets
2, 3 and 4 mm, all classified by Cortical Classify at 150 / 800 HU, against the phantom's analytic
truth (the majority tissue 1.0-1.5 mm outside the implant, on every vertex); for membranes
>= 1.5 mm the share of their vertices where a layer >= 1 mm is reported and the median width
error; false radiolucent lines (a layer >= 1 mm reported where bone touches the metal). Prints the
table and writes it as CSV.

Goals (GOAL MET / GOAL MISSED lines), as in TestContactSweep. Enforced, the floor this version
holds: the default mode at least the best fixed offset on every case, >= 92 % (cases listed in
KNOWN_LIMITS have their own floor), false radiolucent lines on <= 5 % of the vertices where bone
touches (strong blooming: 20 %).

By default a spread of 10 cases (about 5 minutes); `--all` runs all 26 (the README's table),
`--match TEXT` only the cases whose label contains TEXT."""
import csv
import os
import sys

import numpy as np
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403
from vtkmodules.util.numpy_support import vtk_to_numpy

import ibcindependentphantom as phantom
import ibctest

ibctest.load_plugin(globals())
checks = ibctest.Checker("TestIndependentPhantom")
goals_met = [0, 0]

# Changes from the phantom's base (ibcindependentphantom.DEFAULTS: 6000 HU metal, blooming sigma
# 1.2 mm, 2 mm membrane patches, 0.7 x 0.7 x 1 mm voxels, streaks 80 HU, noise 20 HU). The first
# ten run by default.
CASES = [
    ("base", {}),
    ("mild blooming 0.5", dict(bloom_sigma=0.5)),
    ("membranes 0.5 mm", dict(membrane_mm=0.5)),
    ("membranes 1 mm", dict(membrane_mm=1.0)),
    ("CoCr 13000, 2 mm slices, 2.5 mm membranes", dict(metal_hu=13000, slice_thick=2.0, membrane_mm=2.5)),
    ("3 mm slices", dict(slice_thick=3.0)),
    ("streaks 400", dict(streak_amp=400)),
    ("heavy tail Lorentz 20 %, 2 mm", dict(tail_frac=0.2, tail_type="lorentz", tail_len=2.0)),
    ("press-fit, blooming 2.5, noise 40", dict(membrane_mode="none", bloom_sigma=2.5, noise=40)),
    ("Ti 4500, blooming 2", dict(metal_hu=4500, bloom_sigma=2.0)),
    ("strong blooming 3.5, streaks 250, noise 40", dict(bloom_sigma=3.5, streak_amp=250, noise=40)),
    ("membranes 3 mm", dict(membrane_mm=3.0)),
    ("membranes varying 0.5-3", dict(membrane_mode="varying")),
    ("1 mm voxels", dict(vox=1.0)),
    ("0.4 mm voxels, 0.6 mm slices", dict(vox=0.4, slice_thick=0.6, psf_fwhm_xy=0.6, psf_fwhm_z=0.5)),
    ("3 mm slices at 1.5 mm spacing", dict(slice_thick=3.0, slice_spacing=1.5)),
    ("noise 60", dict(noise=60)),
    ("dark halo 150", dict(halo_amp=150, halo_len=1.5)),
    ("heavy tail exp 30 %, 4 mm", dict(tail_frac=0.3, tail_type="exp", tail_len=4.0)),
    ("femoral head CoCr in field", dict(head=True, head_metal_hu=13000)),
    ("press-fit", dict(membrane_mode="none")),
    ("rounder stem (corner r 6, tip 12 mm)", dict(r_tip=6.0, r_top=6.0)),
    ("tissue replaced by metal", dict(metal_mix="replace")),
    ("tissue replaced, rounder stem", dict(metal_mix="replace", r_tip=6.0, r_top=6.0)),
    ("tissue replaced, metal 2800 (below clip)", dict(metal_mix="replace", metal_hu=2800)),
    ("tissue replaced, press-fit, blooming 2.5, noise 40",
     dict(metal_mix="replace", membrane_mode="none", bloom_sigma=2.5, noise=40)),
]
# Where this version falls short, with its own floor. Blooming as wide as the stem's corners
# (sigma >= 2 mm against 3-4 mm radii) makes the metal's share depend on the stem's shape beyond
# the vertex: with sigma 3.5 the flat faces see 300 HU less metal at 1.25 mm than a flat edge
# gives, which the local, curvature-shifted edge model cannot know, and the fit settles on a
# wrong metal value and spread (4588 HU, 2.7 mm for 6000 HU, 3.5 mm). A heavy exponential tail is
# not part of the model. Streaks, a 13000 HU metal on 2 mm slices and a heavy Lorentzian tail
# are within 1-3 % of the general floor.
KNOWN_LIMITS = {
    "press-fit, blooming 2.5, noise 40": 0.87,
    "Ti 4500, blooming 2": 0.85,
    "strong blooming 3.5, streaks 250, noise 40": 0.43,
    "heavy tail Lorentz 20 %, 2 mm": 0.90,
    "heavy tail exp 30 %, 4 mm": 0.75,
    "CoCr 13000, 2 mm slices, 2.5 mm membranes": 0.89,
    "streaks 400": 0.90,
    "tissue replaced, press-fit, blooming 2.5, noise 40": 0.89,
}
STRONG_BLOOMING = 2.0  # sigma (mm) from which false radiolucent lines are allowed up to 20 %

if "--all" not in sys.argv:
    CASES = CASES[:10]
if "--match" in sys.argv:
    CASES = [case for case in CASES if sys.argv[sys.argv.index("--match") + 1] in case[0]]

MODES = [("default", dict()),
         ("automatic", dict(Mode="Automatic")),
         ("offset 2", dict(Mode="Single Offset", Offset=2.0)),
         ("offset 3", dict(Mode="Single Offset", Offset=3.0)),
         ("offset 4", dict(Mode="Single Offset", Offset=4.0))]


def goal(condition, message):
    goals_met[0] += 1 if condition else 0
    goals_met[1] += 1
    print(("GOAL MET    " if condition else "GOAL MISSED ") + message, flush=True)


def producer(data):
    source = TrivialProducer()
    source.GetClientSideObject().SetOutput(data)
    source.UpdatePipeline()
    return source


def point_array(data, name):
    return vtk_to_numpy(data.GetPointData().GetArray(name))


def run_case(parameters):
    surface, points, normals, _, _ = phantom.make_surface(parameters)
    truth = phantom.truth(points, normals, parameters)
    ct = phantom.make_ct(parameters, verbose=False)
    stem, volume = producer(surface), producer(phantom.to_vtk_image(ct))
    true_class, true_width = truth["cls"], truth["width"]
    membranes = (true_width >= 1.5) & np.isfinite(true_width) & (true_width < 6.0)
    touching = true_width == 0
    row = {"vertices": len(points), "membrane vertices": int(np.count_nonzero(membranes))}
    for name, properties in MODES:
        probe = NormalOffsetProbe(Input=stem, Source=volume, **properties)
        classify = CorticalClassify(Input=probe, Preset="Custom", CancellousThreshold=150,
                                    CorticalThreshold=800)
        result = servermanager.Fetch(classify)
        row[name] = float(np.mean(point_array(result, "TissueClass") == true_class))
        if name == "default":
            row["nan"] = int(np.count_nonzero(np.isnan(point_array(result, "HU"))))
            width = point_array(result, "InterfaceWidth")
            if membranes.any():
                row["detected"] = float(np.mean(width[membranes] >= 1.0))
                row["width error"] = float(np.median(np.abs(width[membranes] - true_width[membranes])))
            row["false lines"] = float(np.mean(width[touching] >= 1.0))
            row["metal HU"] = result.GetFieldData().GetArray("MetalHU").GetValue(0)
        Delete(classify)
        Delete(probe)
    Delete(stem)
    Delete(volume)
    row["best offset"] = max(row["offset 2"], row["offset 3"], row["offset 4"])
    return row


def check_case(label, parameters, row):
    goal(row["default"] >= 0.97, "%s: default %.4f >= 0.97" % (label, row["default"]))
    if row["membrane vertices"] >= 20:
        goal(row["detected"] >= 0.95, "%s: membranes detected on %.3f >= 0.95" % (label, row["detected"]))
        goal(row["width error"] <= 0.3, "%s: median width error %.2f <= 0.3 mm" % (label, row["width error"]))
    checks.check(row["nan"] == 0, "%s: no NaN (%d)" % (label, row["nan"]))
    checks.check(row["default"] >= row["best offset"],
                 "%s: default %.4f at least the best fixed offset %.4f"
                 % (label, row["default"], row["best offset"]))
    floor = KNOWN_LIMITS.get(label, 0.92)
    checks.check(row["default"] >= floor, "%s: default %.4f >= %.2f%s" % (
        label, row["default"], floor, " (known limit)" if label in KNOWN_LIMITS else ""))
    allowed = 0.20 if parameters["bloom_sigma"] >= STRONG_BLOOMING else 0.05
    checks.check(row["false lines"] <= allowed, "%s: false radiolucent lines on %.3f <= %.2f"
                 % (label, row["false lines"], allowed))


header = ["case", "default", "automatic", "offset 2", "offset 3", "offset 4", "best offset", "nan",
          "membrane vertices", "detected", "width error", "false lines", "metal HU"]
rows = []
print("%-50s %7s %7s %7s %7s %7s %5s %6s %8s %6s %6s %7s" % (
    "case", "default", "auto", "off 2", "off 3", "off 4", "NaN", "memb.", "detected", "w.err",
    "false", "metal"))
for label, changes in CASES:
    parameters = phantom.params(**changes)
    row = run_case(parameters)
    row["case"] = label
    rows.append(row)
    print("%-50s %7.4f %7.4f %7.4f %7.4f %7.4f %5d %6d %8s %6s %6.3f %7.0f" % (
        label, row["default"], row["automatic"], row["offset 2"], row["offset 3"], row["offset 4"],
        row["nan"], row["membrane vertices"],
        "%.3f" % row["detected"] if "detected" in row else "-",
        "%.2f" % row["width error"] if "width error" in row else "-", row["false lines"],
        row["metal HU"]), flush=True)
    check_case(label, parameters, row)

with open(os.path.join(ibctest.output_dir("IndependentPhantom"), "independent_phantom.csv"), "w",
          newline="") as stream:
    writer = csv.DictWriter(stream, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
print("GOALS: %d of %d met" % (goals_met[0], goals_met[1]))
checks.finish()
