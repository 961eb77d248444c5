"""Benchmark of Implant Remesh as a user runs it (pvpython, the whole filter): uniform 1 mm and
Adaptive (Maximum Deviation 0.05 mm) on the THA Phantom's stem as a CAD export and as segmented
exports (labelmap of 0.5 and 1.0 mm, marching cubes, smoothing, decimation to 12k triangles),
and the uniform length that reaches the same 0.05 mm, for the point count adaptive saves.
Not a test: it only prints (median, min and max wall time of --runs runs).

    pvpython Testing/Benchmarks/BenchmarkRemeshFidelity.py [--runs 3]
"""
import argparse
import os
import statistics
import sys
import time

from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Python"))
import ibctest  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ibcbench import record, summary, time_filter  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=3)
args = parser.parse_args()
ibctest.load_plugin(globals())

inputs = [
    ("CAD export", dict()),
    ("segmented 0.5 mm", dict(SurfaceKind="Segmented Export", SegmentationVoxelSize=0.5)),
    ("segmented 1.0 mm", dict(SurfaceKind="Segmented Export", SegmentationVoxelSize=1.0)),
]


def run(phantom, **properties):
    """Remeshes `runs` times with fresh filters; the last output and the wall times."""
    return time_filter(lambda: ImplantRemesh(Input=OutputPort(phantom, 1), **properties), args.runs, fetch=True)


def row(name, mode, data, seconds):
    value = lambda key: data.GetFieldData().GetArray(key).GetValue(0)
    print("| %s | %s | %d | %.2f (%.2f-%.2f) s | %.3f | %.3f | %.2f %% | %.3f |" % (
        name, mode, data.GetNumberOfPoints(), statistics.median(seconds), min(seconds), max(seconds),
        value("DeviationInputToOutput"), value("DeviationOutputToInput"),
        100 * value("ShareAbove30Degrees"), value("EdgeLengthCV")))
    record("remesh (pvpython)", "%s, %s: %d points, Hausdorff %.3f mm" % (
        name, mode, data.GetNumberOfPoints(), value("HausdorffDistance")), *summary(seconds))
    return value("HausdorffDistance")


print("| input | mode | points | time | input to output (mm) | output to input (mm) | triangles >= 30 deg | edge CV |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for name, kind in inputs:
    phantom = THAPhantom(Spacing=[3.0, 3.0, 3.0], GenerateTissueLabels=0, **kind)
    phantom.UpdatePipeline()
    triangles = phantom.GetDataInformation(1).GetNumberOfCells()
    name = "%s (%d triangles)" % (name, triangles)
    row(name, "uniform 1 mm", *run(phantom, TargetEdgeLength=1.0))
    row(name, "adaptive 0.05 mm", *run(phantom, SizingMode="Adaptive", MaximumDeviation=0.05))
    for length in (0.8, 0.65, 0.5, 0.4, 0.3):
        data, seconds = run(phantom, TargetEdgeLength=length)
        if data.GetFieldData().GetArray("HausdorffDistance").GetValue(0) <= 0.05:
            row(name, "uniform %.2f mm (the longest reaching 0.05 mm)" % length, data, seconds)
            break
    Delete(phantom)
