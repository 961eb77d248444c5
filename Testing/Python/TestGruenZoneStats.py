"""Cortical Classify and Gruen Zone Stats in pvpython, against the THA Phantom's truth: zones on
>= 97 % of the area, cortical fractions within 0.05 per zone, left/right mirror consistency,
the same table in a rotated frame, the CSV written by SaveData, automatic thresholds, smoothing
and clear errors."""
import csv
import math
import os

import numpy as np
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy

import ibctest

ibctest.load_plugin(globals())
checks = ibctest.Checker("TestGruenZoneStats")
out = ibctest.output_dir("gruen")


def chain(phantom_options=None, classify_options=None, zone_options=None, surface=None):
    phantom = THAPhantom(**dict(dict(BloomingWidth=2.0, ChordTolerance=0.005), **(phantom_options or {})))
    probe = NormalOffsetProbe(Input=OutputPort(phantom, 1), Source=OutputPort(phantom, 0))
    classified = CorticalClassify(Input=surface or probe, **(classify_options or {}))
    zones = GruenZoneStats(Input=classified, **(zone_options or {}))
    return phantom, probe, classified, zones


def table_of(zones):
    table = servermanager.Fetch(zones, idx=1)
    return {table.GetColumnName(c): vtk_to_numpy(table.GetColumn(c)).copy() for c in range(table.GetNumberOfColumns())}


# --- Zones and cortical fractions against the truth, with the automatic frame.
phantom, probe, classified, zones = chain()
data = servermanager.Fetch(zones)
g = lambda name: vtk_to_numpy(data.GetPointData().GetArray(name))
area = ibctest.vertex_areas(data)
agreement = np.sum(area * (g("GruenZone") == g("TrueGruenZone"))) / area.sum()
limit = data.GetFieldData().GetArray("ProximalLimit").GetValue(0)
checks.check(agreement >= 0.97, "GruenZone agrees with TrueGruenZone on %.2f %% of the area (automatic "
             "proximal limit %.1f mm; the phantom's resection is at 130)" % (100 * agreement, limit))
checks.near(limit, 130.0, 5.0, "automatic proximal limit (mm from the tip)")
table = table_of(zones)
true_zone = g("TrueGruenZone")
true_class = g("TrueTissueClass")
worst = 0.0
for row, zone in enumerate(table["Zone"]):
    selected = (true_zone == zone) if zone else (true_zone > 0)
    truth = np.sum(area[selected] * (true_class[selected] == 3)) / np.sum(area[selected])
    worst = max(worst, abs(table["CorticalFraction"][row] - truth))
    print("    zone %2d: cortical fraction %.3f, truth %.3f, HU median %7.1f" % (
        zone, table["CorticalFraction"][row], truth, table["HUMedian"][row]))
checks.check(worst <= 0.05, "every zone's CorticalFraction within 0.05 of the truth (worst %.3f)" % worst)
checks.check(list(table["Zone"]) == list(range(15)), "table rows: zone 0 (whole stem) and 1-14")
checks.near(table["Area"][0], np.sum(table["Area"][1:]), 1e-6 * table["Area"][0], "zone 0 area is the sum of the zones")

# The given proximal limit (the resection measured on the CT) makes the zones exact.
zones.ProximalLimit = 130.0
data130 = servermanager.Fetch(zones)
agreement130 = np.sum(area * (vtk_to_numpy(data130.GetPointData().GetArray("GruenZone")) == true_zone)) / area.sum()
checks.check(agreement130 >= 0.995, "with Proximal Limit = 130 mm: %.2f %% of the area" % (100 * agreement130))
zones.ProximalLimit = -1.0

# --- The CSV written by SaveData parses back to the same numbers.
csv_path = os.path.join(out, "zones.csv")
SaveData(csv_path, proxy=OutputPort(zones, 1), Precision=12)
with open(csv_path) as f:
    rows = list(csv.DictReader(f))
same = len(rows) == 15 and all(
    math.isclose(float(rows[r][name]), float(table[name][r]), rel_tol=1e-9, abs_tol=1e-9)
    for r in range(15) for name in ("Zone", "NumberOfPoints", "Area", "HUMedian", "CorticalFraction", "ValidFraction"))
checks.check(same, "SaveData CSV (%d rows) parses back to the table's numbers" % len(rows))

# --- Left and right phantoms give mirror-consistent tables.
left = table_of(chain(phantom_options=dict(Side="Left"))[3])
checks.check(np.array_equal(left["NumberOfPoints"], table["NumberOfPoints"]) and
             np.allclose(left["Area"], table["Area"], rtol=1e-9), "left and right: same points and areas per zone")
difference = np.max(np.abs(left["CorticalFraction"] - table["CorticalFraction"]))
checks.check(difference <= 0.03, "left and right: cortical fractions within 0.03 (max %.3f; the noise differs)" % difference)

# --- The same stem in a rotated frame gives the same table (Side given: no LPS frame any more).
probed = servermanager.Fetch(probe)
angle = math.radians(35.0)
rotation = np.array([[1, 0, 0], [0, math.cos(angle), -math.sin(angle)], [0, math.sin(angle), math.cos(angle)]])
rotation = rotation @ np.array([[math.cos(0.6), 0, math.sin(0.6)], [0, 1, 0], [-math.sin(0.6), 0, math.cos(0.6)]])
from vtkmodules.vtkCommonCore import vtkPoints
moved = probed.NewInstance()
moved.DeepCopy(probed)
new_points = vtkPoints()
new_points.SetData(numpy_to_vtk(vtk_to_numpy(probed.GetPoints().GetData()) @ rotation.T + np.array([40.0, -7.0, 300.0]), deep=1))
moved.SetPoints(new_points)
normals = numpy_to_vtk(vtk_to_numpy(probed.GetPointData().GetArray("Normals")) @ rotation.T, deep=1)
normals.SetName("Normals")
moved.GetPointData().SetNormals(normals)
rotated_input = TrivialProducer()
rotated_input.GetClientSideObject().SetOutput(moved)
rotated = table_of(GruenZoneStats(Input=CorticalClassify(Input=rotated_input), Side="Right"))
checks.check(np.array_equal(rotated["NumberOfPoints"], table["NumberOfPoints"]) and
             np.allclose(rotated["Area"], table["Area"], rtol=1e-6) and
             np.allclose(rotated["CorticalFraction"], table["CorticalFraction"], atol=1e-9) and
             np.allclose(rotated["HUMedian"], table["HUMedian"], equal_nan=True),
             "rotated and moved stem: the same table")

# --- Automatic thresholds and smoothing.
classified.AutomaticThresholds = 1
classified.SmoothingRadius = 1.5
auto = servermanager.Fetch(classified)
low = auto.GetFieldData().GetArray("CancellousThreshold").GetValue(0)
high = auto.GetFieldData().GetArray("CorticalThreshold").GetValue(0)
checks.check(30 < low < 300 < high < 1400, "automatic thresholds %.0f / %.0f HU fall between the tissues" % (low, high))
tissue = vtk_to_numpy(auto.GetPointData().GetArray("TissueClass"))
usable = (vtk_to_numpy(auto.GetPointData().GetArray("TrueGruenZone")) > 0) & \
    (vtk_to_numpy(auto.GetPointData().GetArray("TrueTissueClassIsRobust")) == 1)
accuracy = np.mean(tissue[usable] == vtk_to_numpy(auto.GetPointData().GetArray("TrueTissueClass"))[usable])
checks.check(accuracy > 0.95, "automatic thresholds with smoothing: %.4f of the vertices classed as the truth" % accuracy)
classified.Preset = "Pedicle Screw Planner"
classified.AutomaticThresholds = 0
preset = servermanager.Fetch(classified).GetFieldData()
checks.check(preset.GetArray("CorticalThreshold").GetValue(0) == 250 and
             "Pedicle" in preset.GetAbstractArray("ThresholdSource").GetValue(0), "presets set their thresholds")

# --- Clear errors.

with ibctest.StderrCapture() as captured:
    GruenZoneStats(Input=probe).UpdatePipeline()
checks.check("Cortical Classify" in captured.text, "no TissueClass: the error says to run Cortical Classify")
cylinder = Cylinder(Resolution=40, Height=120.0, Radius=6.0, Capping=1)
sampled_cylinder = Calculator(Input=Triangulate(Input=cylinder), ResultArrayName="HU", Function="300")
with ibctest.StderrCapture() as captured:
    GruenZoneStats(Input=CorticalClassify(Input=sampled_cylinder), UseAxisDirection=1,
                   AxisDirection=[0, 1, 0]).UpdatePipeline()
checks.check("Medial Direction" in captured.text, "a cylinder has no neck: the error asks for Medial Direction")
from vtkmodules.vtkCommonDataModel import vtkPolyData
broken = vtkPolyData()
broken.DeepCopy(servermanager.Fetch(probe))
broken.GetPoints().SetPoint(3, float("nan"), 0.0, 0.0)
broken_source = TrivialProducer()
broken_source.GetClientSideObject().SetOutput(broken)
with ibctest.StderrCapture() as captured:
    CorticalClassify(Input=broken_source).UpdatePipeline()
checks.check("NaN" in captured.text, "a surface with a NaN point: Cortical Classify says so")

# --- Interface (radiolucent zone) and confidence columns against the phantom's true widths: a
# loosened stem in 2.5 mm membranes, and a press-fit stem in bone.
for pattern, membrane in (("Loosened", 2.5), ("Press Fit", -1.0)):
    phantom, probe, classified, zones = chain(dict(ContactPattern=pattern, ContactLayerThickness=5.0,
                                                   MembraneThickness=membrane, BloomingWidth=1.5))
    table = table_of(zones)
    stem = servermanager.Fetch(zones)
    zone = ibctest.array(stem, "GruenZone")
    true_width = ibctest.array(stem, "TrueInterfaceWidth")
    area = ibctest.vertex_areas(stem)
    checks.check(all(name in table for name in ("InterfaceWidthMean", "InterfaceOver1mmFraction",
                                                "InterfaceOver2mmFraction", "ConfidentFraction")),
                 "%s: the zone table has the interface and confidence columns" % pattern)
    worst = 0.0
    for row, z in enumerate(table["Zone"]):
        if z == 0:
            continue
        inside = zone == z
        truth_over_2 = np.sum(area[inside] * (true_width[inside] >= 2.0)) / np.sum(area[inside])
        truth_mean = np.sum(area[inside] * np.minimum(true_width[inside], 6.0)) / np.sum(area[inside])
        worst = max(worst, abs(table["InterfaceOver2mmFraction"][row] - truth_over_2))
        if pattern == "Loosened":
            checks.near(table["InterfaceWidthMean"][row], truth_mean, 0.5,
                        "%s zone %d: mean interface width against the truth" % (pattern, z))
    checks.check(worst <= 0.15, "%s: every zone's share of area with a layer >= 2 mm within 0.15 of the "
                 "truth (worst %.3f)" % (pattern, worst))
    checks.check(np.min(table["ConfidentFraction"][1:]) >= 0.9,
                 "%s: >= 90 %% of every zone's area sampled with confidence (lowest %.3f)"
                 % (pattern, np.min(table["ConfidentFraction"][1:])))

# --- Inverted thresholds: a message naming both, an empty output (nothing labelled), and the same
# filter classifies again once they are put right.
phantom, probe, classified, zones = chain(classify_options=dict(Preset="Custom", CancellousThreshold=900,
                                                                CorticalThreshold=300))
with ibctest.StderrCapture() as captured:
    classified.UpdatePipeline()
checks.check("must be below Cortical Threshold" in captured.text and
             classified.GetDataInformation().GetNumberOfPoints() == 0,
             "Cortical Threshold below Cancellous Threshold: an error naming both, nothing labelled")
classified.CorticalThreshold = 1100
classified.UpdatePipeline()
checks.check(classified.GetDataInformation().GetNumberOfPoints() > 0 and
             classified.PointData["TissueClass"] is not None,
             "the same filter classifies once the thresholds are put right")
checks.finish()
