"""Main job on the built-in THA Phantom: the full contact analysis, written to a results folder.

    THA Phantom -> Implant Remesh (1 mm) -> Normal Offset Probe (automatic) -> Cortical Classify
                -> Gruen Zone Stats
    and the implant's geometry from the CT:
    THA Phantom CT -> Implant Extract; the CAD stem, displaced as a rough manual placement
                would leave it -> Implant Register onto the CT

Results:
    zones.csv              per-zone table (Gruen Zone Stats, port 1), as File > Save Data writes it
    stem.vtp               the remeshed stem with HU, TissueClass and GruenZone
    ct.vti                 the phantom CT
    truth_check.csv        per zone: the table's cortical fraction next to the phantom's truth
    heatmap_<face>_face.png   HU on the stem seen from each face: anterior (zones 8-10),
                              posterior (12-14), lateral (1-3), medial (5-7); with a display
    zones_<face>_face.png     the Gruen zones on that face, cortical contact per zone
    zone_diagram.svg          the two-view Gruen zone diagram filled by cortical fraction
    implant_extracted.vtp  the metal surface extracted from the CT (partial-volume corrected)
    stem_registered.vtp    the CAD stem registered onto the CT
    stem_to_ct.tfm         that registration as an ITK transform file (3D Slicer loads it)
    summary.json

    pvpython Examples/phantom_analysis.py --plugin PATH --output results
"""
import argparse
import csv
import json
import os
import time

import numpy as np
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkFiltersCore import vtkImplicitPolyDataDistance

import ibc_pictures
import ibc_zone_diagram

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--plugin", required=True, help="path of ImplantBoneContact.so")
parser.add_argument("--output", default="results", help="results folder")
parser.add_argument("--side", choices=["Right", "Left"], default="Right")
parser.add_argument("--blooming", type=float, default=2.0, help="blooming width, mm")
parser.add_argument("--noise", type=float, default=20.0, help="noise sigma, HU")
parser.add_argument("--no-images", action="store_true", help="skip the screenshots")
args = parser.parse_args()

LoadPlugin(args.plugin, ns=globals())
os.makedirs(args.output, exist_ok=True)
timings = {}


def timed(name, proxy):
    started = time.time()
    proxy.UpdatePipeline()
    timings[name] = round(time.time() - started, 2)
    return proxy


phantom = timed("phantom", THAPhantom(Side=args.side, BloomingWidth=args.blooming, NoiseSigma=args.noise,
                                      ChordTolerance=0.005))
remeshed = timed("remesh", ImplantRemesh(Input=OutputPort(phantom, 1), TargetEdgeLength=1.0))
probe = timed("probe", NormalOffsetProbe(Input=remeshed, Source=OutputPort(phantom, 0)))
classified = timed("classify", CorticalClassify(Input=probe))
zones = timed("zones", GruenZoneStats(Input=classified))

SaveData(os.path.join(args.output, "zones.csv"), proxy=OutputPort(zones, 1), Precision=6)
SaveData(os.path.join(args.output, "stem.vtp"), proxy=OutputPort(zones, 0))
SaveData(os.path.join(args.output, "ct.vti"), proxy=OutputPort(phantom, 0))

# The table against the phantom's truth, area-weighted on the phantom's own CAD surface (its
# TrueTissueClass and TrueGruenZone).
stem = servermanager.Fetch(zones, idx=0)
table = servermanager.Fetch(zones, idx=1)
cad = servermanager.Fetch(phantom, idx=1)
column = lambda name: vtk_to_numpy(table.GetColumnByName(name))
points = vtk_to_numpy(cad.GetPoints().GetData())
triangles = vtk_to_numpy(cad.GetPolys().GetConnectivityArray()).reshape(-1, 3)
triangle_area = 0.5 * np.linalg.norm(np.cross(points[triangles[:, 1]] - points[triangles[:, 0]],
                                              points[triangles[:, 2]] - points[triangles[:, 0]]), axis=1)
vertex_area = np.zeros(len(points))
for corner in range(3):
    np.add.at(vertex_area, triangles[:, corner], triangle_area / 3.0)
true_zone = vtk_to_numpy(cad.GetPointData().GetArray("TrueGruenZone"))
true_class = vtk_to_numpy(cad.GetPointData().GetArray("TrueTissueClass"))
rows = []
for r, zone in enumerate(column("Zone")):
    selected = (true_zone == zone) if zone else (true_zone > 0)
    truth = float(np.sum(vertex_area[selected] * (true_class[selected] == 3)) / np.sum(vertex_area[selected]))
    rows.append({"Zone": int(zone), "CorticalFraction": round(float(column("CorticalFraction")[r]), 4),
                 "TrueCorticalFraction": round(truth, 4), "HUMedian": round(float(column("HUMedian")[r]), 1)})
with open(os.path.join(args.output, "truth_check.csv"), "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    writer.writeheader()
    writer.writerows(rows)
worst = max(abs(row["CorticalFraction"] - row["TrueCorticalFraction"]) for row in rows)
fields = stem.GetFieldData()

# Pictures: the HU heatmap and the zones on each face of the stem.
images = [] if args.no_images else ibc_pictures.save_pictures(zones, stem, table, args.output)
ibc_zone_diagram.write_zone_diagram(rows, os.path.join(args.output, "zone_diagram.svg"))

# The implant's geometry from the CT: the extracted metal surface, and the CAD stem registered
# onto the CT from a rough placement (10 mm and 10 degrees off), both against the true stem.
extracted = timed("extract", ImplantExtract(Input=OutputPort(phantom, 0)))
placed = Transform(Input=OutputPort(phantom, 1))
placed.Transform.Translate = [6.0, -5.0, 6.0]
placed.Transform.Rotate = [5.0, -5.0, 6.0]
registered = timed("register", ImplantRegister(Input=placed, Target=OutputPort(phantom, 0),
                                               TransformFileName=os.path.join(args.output, "stem_to_ct.tfm")))
SaveData(os.path.join(args.output, "implant_extracted.vtp"), proxy=extracted)
SaveData(os.path.join(args.output, "stem_registered.vtp"), proxy=registered)
true_distance = vtkImplicitPolyDataDistance()
true_distance.SetInput(cad)
metal = servermanager.Fetch(extracted)
metal_distances = np.array([true_distance.EvaluateFunction(p) for p in vtk_to_numpy(metal.GetPoints().GetData())])
moved_back = vtk_to_numpy(servermanager.Fetch(registered).GetPoints().GetData())
geometry = {
    "extract_mean_distance_to_true_stem_mm": round(float(np.abs(metal_distances).mean()), 4),
    "extract_threshold_surface_inflation_mm": round(metal.GetFieldData().GetArray("ThresholdSurfaceInflation").GetValue(0), 4),
    "extract_volume_mm3": round(metal.GetFieldData().GetArray("Volume").GetValue(0), 1),
    "register_vertex_rms_error_mm": round(float(np.sqrt(((moved_back - points) ** 2).sum(axis=1).mean())), 4),
}

info = phantom.GetDataInformation(0)
summary = {
    "phantom": {"side": args.side, "blooming_width_mm": args.blooming, "noise_sigma_hu": args.noise},
    "ct_voxels": info.GetNumberOfPoints(),
    "stem_points": stem.GetNumberOfPoints(),
    "seconds": timings,
    "proximal_limit_mm": fields.GetArray("ProximalLimit").GetValue(0),
    "remesh_quality": {stem.GetFieldData().GetArrayName(i): round(stem.GetFieldData().GetArray(i).GetValue(0), 4)
                       for i in range(stem.GetFieldData().GetNumberOfArrays())
                       if stem.GetFieldData().GetArrayName(i) in ("ShareAbove30Degrees", "EdgeLengthCV",
                                                                   "HausdorffDistance", "AreaChangePercent")},
    "worst_cortical_fraction_error": round(worst, 4),
    "implant_geometry": geometry,
    "files": ["zones.csv", "stem.vtp", "ct.vti", "truth_check.csv", "zone_diagram.svg", "implant_extracted.vtp",
              "stem_registered.vtp", "stem_to_ct.tfm"] + images,
}
with open(os.path.join(args.output, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)

print("THA Phantom (%s, blooming %.1f mm): %d voxels, stem %d points; seconds %s" % (
    args.side, args.blooming, summary["ct_voxels"], summary["stem_points"], timings))
print("Largest difference between a zone's cortical fraction and the phantom's truth: %.3f" % worst)
print("  zone  cortical  truth   HU median")
for row in rows:
    print("  %4s   %5.2f   %5.2f   %8.1f" % (row["Zone"] if row["Zone"] else "all", row["CorticalFraction"],
                                          row["TrueCorticalFraction"], row["HUMedian"]))
print("Implant from the CT: extracted surface %.3f mm from the true stem on average (the threshold surface "
      "was %.3f mm inflated); CAD registered onto the CT with a vertex RMS error of %.3f mm" % (
          geometry["extract_mean_distance_to_true_stem_mm"], geometry["extract_threshold_surface_inflation_mm"],
          geometry["register_vertex_rms_error_mm"]))
print("Results in %s" % os.path.abspath(args.output))
