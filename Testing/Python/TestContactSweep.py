"""Bone contact across the range of CTs: the THA Phantom swept over every physical factor a real
scan varies (blooming, metal value behind the clip, membrane and contact-layer thickness,
streaks, noise, in-plane voxel, slice thickness, contact pattern, side and tilt), one at a time
around a base case and in hard combinations. For each case: vertex accuracy of Normal Offset
Probe's default mode (Metal Corrected), of Automatic and of fixed offsets 2, 3 and 4 mm, all
classified by Cortical Classify at 150 / 800 HU, against the phantom's analytic truth (the
tissue 1.0-1.5 mm outside the implant, vertices whose class holds over that band); and for
membranes >= 1.5 mm, the share of their vertices where an interface is reported and the median
width error. Prints the table and writes it as CSV.

Goals (printed as GOAL MET / GOAL MISSED): the default mode at least as good as the best fixed
offset on every case, >= 97 % where layers are >= 2 mm and blooming sigma <= 1.5 mm, membranes
>= 1.5 mm detected on >= 95 % of their vertices with median width error <= 0.3 mm. Enforced (the
floor this version holds, on every case): at least the best fixed offset and Automatic (1 %
slack), >= 87 %, no NaN, membranes detected on >= 55 % with median width error <= 0.8 mm.

`--quick` runs every fourth case; `--match TEXT` only the cases whose label contains TEXT."""
import csv
import os
import sys

import numpy as np
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403
from vtkmodules.util.numpy_support import vtk_to_numpy

import ibctest

ibctest.load_plugin(globals())
checks = ibctest.Checker("TestContactSweep")
goals_met = [0, 0]


def goal(condition, message):
    """A goal of issue 12, reported but not (yet) enforced."""
    goals_met[0] += 1 if condition else 0
    goals_met[1] += 1
    print(("GOAL MET    " if condition else "GOAL MISSED ") + message, flush=True)

# The base case: mixed contact with a 3 mm patterned layer and 2 mm membranes, moderate
# blooming. Every other case changes one or a few factors.
BASE = dict(ContactPattern="Mixed", ContactLayerThickness=3.0, MembraneThickness=2.0,
            BloomingWidth=1.5, MetalHU=6000.0, BeamHardening=100.0, StreakDepth=60.0,
            NoiseSigma=20.0, Spacing=[0.7, 0.7, 1.0])
CASES = [("base", {})]
CASES += [("blooming %.1f" % w, dict(BloomingWidth=w)) for w in (0.5, 1.0, 2.0, 2.5, 3.0, 4.0)]
CASES += [("membrane %.1f" % t, dict(ContactPattern="Loosened", ContactLayerThickness=5.0,
                                     MembraneThickness=t)) for t in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0)]
CASES += [("metal %d" % m, dict(MetalHU=m)) for m in (3000, 4500, 9000, 12000)]
CASES += [("metal %d unclipped" % m, dict(MetalHU=m, Clip=0)) for m in (3500, 8000)]
CASES += [("streaks %d" % s, dict(StreakDepth=s)) for s in (0, 150, 300)]
CASES += [("beam hardening %d" % b, dict(BeamHardening=b, StreakDepth=-1)) for b in (0, 250)]
CASES += [("noise %d" % n, dict(NoiseSigma=n)) for n in (10, 40, 60)]
CASES += [("voxel %.1f" % v, dict(Spacing=[v, v, 1.0])) for v in (0.5, 1.0)]
CASES += [("slice %.1f" % z, dict(Spacing=[0.7, 0.7, z])) for z in (0.6, 2.0, 3.0)]
CASES += [("contact layer %.1f" % t, dict(ContactLayerThickness=t, MembraneThickness=-1))
          for t in (1.5, 2.5, 5.0)]
CASES += [("press fit", dict(ContactPattern="Press Fit")),
          ("cancellous", dict(ContactPattern="Cancellous")),
          ("left, varus 4", dict(Side="Left", VarusValgusTilt=4.0)),
          ("strong blooming, streaks, noise 40", dict(BloomingWidth=3.0, StreakDepth=150,
                                                      BeamHardening=200, NoiseSigma=40)),
          ("CoCr, 2.5 mm membranes, 2 mm slices", dict(MetalHU=12000, ContactPattern="Loosened",
                                                       ContactLayerThickness=5.0,
                                                       MembraneThickness=2.5,
                                                       Spacing=[0.7, 0.7, 2.0])),
          ("1 mm membranes, blooming 2.5", dict(ContactPattern="Loosened",
                                                ContactLayerThickness=5.0, MembraneThickness=1.0,
                                                BloomingWidth=2.5)),
          ("2 mm membranes, noise 60, voxel 1.0", dict(ContactPattern="Loosened",
                                                       ContactLayerThickness=5.0,
                                                       MembraneThickness=2.0, NoiseSigma=60,
                                                       Spacing=[1.0, 1.0, 1.0])),
          ("blooming 3, metal 9000, slice 2", dict(BloomingWidth=3.0, MetalHU=9000,
                                                   Spacing=[0.7, 0.7, 2.0]))]
# Metal the probe is not told about: the head, and the cup around it (wider margin: the whole cup).
CASES += [("femoral head", dict(OtherMetal="Femoral Head")),
          ("head and cup, streaks 150", dict(OtherMetal="Head And Cup", StreakDepth=150,
                                             Margin=30.0)),
          ("head and cup, 2 mm membranes", dict(OtherMetal="Head And Cup", Margin=30.0,
                                                  ContactPattern="Loosened",
                                                  ContactLayerThickness=5.0,
                                                  MembraneThickness=2.0))]
# Where this version is known to fall short, with its own floor: 1 mm membranes, whose bone
# starts at the contact band and is read through the bone's blurred edge either side of the
# threshold (Automatic 0.956, Metal Corrected 0.938 with 1.5 mm blooming).
KNOWN_LIMITS = {"membrane 1.0": 0.92}
if "--quick" in sys.argv:
    CASES = CASES[::4]
if "--match" in sys.argv:
    # Development aid: only the cases whose label contains the given text.
    CASES = [case for case in CASES if sys.argv[sys.argv.index("--match") + 1] in case[0]]

MODES = [("default", dict()),
         ("automatic", dict(Mode="Automatic")),
         ("offset 2", dict(Mode="Single Offset", Offset=2.0)),
         ("offset 3", dict(Mode="Single Offset", Offset=3.0)),
         ("offset 4", dict(Mode="Single Offset", Offset=4.0))]


def point_array(data, name):
    return vtk_to_numpy(data.GetPointData().GetArray(name))


def run_case(settings):
    properties = dict(TruthDistance=1.25, TruthDepthTolerance=0.25, Margin=8.0,
                      GenerateTissueLabels=0)
    properties.update(settings)
    phantom = THAPhantom(**properties)
    stem = servermanager.Fetch(phantom, idx=1)
    truth = point_array(stem, "TrueTissueClass")
    judged = (point_array(stem, "TrueTissueClassIsRobust") == 1) & (point_array(stem, "TrueGruenZone") > 0)
    true_width = point_array(stem, "TrueInterfaceWidth")
    membranes = judged & (true_width >= 1.5) & (true_width < 9.0)
    row = {"judged": int(np.count_nonzero(judged))}
    for name, properties in MODES:
        probe = NormalOffsetProbe(Input=OutputPort(phantom, 1), Source=OutputPort(phantom, 0), **properties)
        classify = CorticalClassify(Input=probe, Preset="Custom", CancellousThreshold=150,
                                    CorticalThreshold=800)
        result = servermanager.Fetch(classify)
        classes = point_array(result, "TissueClass")
        row[name] = float(np.mean(classes[judged] == truth[judged])) if judged.any() else float("nan")
        if name == "default":
            row["nan"] = int(np.count_nonzero(np.isnan(point_array(result, "HU"))))
            width = point_array(result, "InterfaceWidth")
            row["membrane vertices"] = int(np.count_nonzero(membranes))
            if membranes.any():
                row["detected"] = float(np.mean(width[membranes] >= 1.0))
                row["width error"] = float(np.median(np.abs(width[membranes] - true_width[membranes])))
            row["confidence"] = float(np.mean(point_array(result, "SampleConfidence")))
        Delete(classify)
        Delete(probe)
    Delete(phantom)
    return row


header = ["case", "default", "automatic", "offset 2", "offset 3", "offset 4", "best offset",
          "nan", "membrane vertices", "detected", "width error", "confidence"]
rows = []
print("%-38s %8s %8s %8s %8s %8s %6s %6s %8s %7s %6s" % ("case", "default", "auto", "off 2", "off 3",
                                                      "off 4", "NaN", "memb.", "detected", "w.err", "conf"))
for label, changes in CASES:
    settings = dict(BASE)
    settings.update(changes)
    row = run_case(settings)
    row["case"] = label
    row["best offset"] = max(row["offset 2"], row["offset 3"], row["offset 4"])
    rows.append(row)
    print("%-38s %8.4f %8.4f %8.4f %8.4f %8.4f %6d %6d %8s %7s %6.2f" % (
        label, row["default"], row["automatic"], row["offset 2"], row["offset 3"], row["offset 4"],
        row["nan"], row["membrane vertices"],
        "%.3f" % row["detected"] if "detected" in row else "-",
        "%.2f" % row["width error"] if "width error" in row else "-", row["confidence"]))
    sys.stdout.flush()

    # The goals are printed as GOAL lines (met or not); the checks that fail the test are
    # the floor this version holds.
    checks.check(row["nan"] == 0, "%s: no NaN (%d)" % (label, row["nan"]))
    if row["judged"] == 0:
        print("(no vertex has the same class over 1.0-1.5 mm: accuracy not judged)")
        continue
    blooming_sigma = 0.5 * settings["BloomingWidth"]
    layers = settings["ContactLayerThickness"] if settings["ContactPattern"] != "Loosened" else 5.0
    membrane = settings["MembraneThickness"] if settings["MembraneThickness"] >= 0 else layers
    goal(row["default"] >= row["best offset"],
         "%s: default %.4f at least the best fixed offset %.4f" % (label, row["default"], row["best offset"]))
    if min(layers, membrane) >= 2.0 and blooming_sigma <= 1.5:
        goal(row["default"] >= 0.97, "%s: default %.4f >= 0.97" % (label, row["default"]))
    if row["membrane vertices"] >= 20:
        goal(row["detected"] >= 0.95, "%s: membranes detected on %.3f >= 0.95" % (label, row["detected"]))
        goal(row["width error"] <= 0.3, "%s: median width error %.2f <= 0.3 mm" % (label, row["width error"]))
    if label in KNOWN_LIMITS:
        # Printed as GOAL lines above; the floor this version holds on this case is its own.
        checks.check(row["default"] >= KNOWN_LIMITS[label], "%s: default %.4f >= %.2f (known limit)"
                     % (label, row["default"], KNOWN_LIMITS[label]))
        continue
    checks.check(row["default"] >= row["best offset"] - 0.01 and row["default"] >= row["automatic"] - 0.01,
                 "%s: default %.4f at least the best fixed offset %.4f and Automatic %.4f (1 %% slack)"
                 % (label, row["default"], row["best offset"], row["automatic"]))
    checks.check(row["default"] >= 0.87, "%s: default %.4f >= 0.87" % (label, row["default"]))
    if row["membrane vertices"] >= 20:
        checks.check(row["detected"] >= 0.55 and row["width error"] <= 0.8,
                     "%s: membranes detected on %.3f >= 0.55, median width error %.2f <= 0.8 mm"
                     % (label, row["detected"], row["width error"]))

with open(os.path.join(ibctest.output_dir("ContactSweep"), "contact_sweep.csv"), "w", newline="") as stream:
    writer = csv.DictWriter(stream, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
if "--match" not in sys.argv:
    checks.check(len(rows) >= (10 if "--quick" in sys.argv else 40), "%d cases" % len(rows))
print("GOALS: %d of %d met" % (goals_met[0], goals_met[1]))
checks.finish()
