"""The whole Normal Offset Probe as a user runs it from pvpython, against vtkProbeFilter at the
vertices in the same run (what 3D Slicer's "Probe volume with model" does).

    pvpython Testing/Benchmarks/BenchmarkProbeFilter.py [--plugin PATH] [--points N] [--runs R]

THA Phantom (default CT, 2 M voxels) -> Implant Remesh to N points (default 100000) -> the probe
in each mode, the median of R runs (default 3) each; prints seconds and points per second, and
the ratio to vtkProbeFilter. Not a timed test: run it on a quiet machine."""
import argparse
import os
import statistics
import time

from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403
from vtkmodules.vtkFiltersCore import vtkProbeFilter

from ibcbench import record, summary, time_filter

parser = argparse.ArgumentParser()
here = os.path.dirname(os.path.abspath(__file__))
parser.add_argument("--plugin", default=os.path.join(
    here, "..", "..", "build", "lib", "paraview-5.11", "plugins", "ImplantBoneContact", "ImplantBoneContact.so"))
parser.add_argument("--points", type=int, default=100000)
parser.add_argument("--runs", type=int, default=3)
args = parser.parse_args()
LoadPlugin(args.plugin, ns=globals())

phantom = THAPhantom(GenerateTissueLabels=0)
stem = ImplantRemesh(Input=OutputPort(phantom, 1), SizingMode="Number Of Points",
                     TargetNumberOfPoints=args.points)
stem.UpdatePipeline()
OutputPort(phantom, 0).UpdatePipeline()
points = stem.GetDataInformation().GetNumberOfPoints()


def median_time(make):
    return summary(time_filter(make, args.runs)[1])


reference = vtkProbeFilter()
reference.SetInputData(servermanager.Fetch(stem))
reference.SetSourceData(servermanager.Fetch(OutputPort(phantom, 0)))


def run_reference():
    times = []
    for _ in range(args.runs):
        reference.Modified()
        start = time.perf_counter()
        reference.Update()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


base = run_reference()
record("probe filter (pvpython)", "vtkProbeFilter at %d vertices" % points, *base)
print("%d surface points; vtkProbeFilter at the vertices: %.4f s (%.4f-%.4f), %.2f M points/s"
      % (points, base[0], base[1], base[2], points / base[0] / 1e6))
for label, options in [("Metal Corrected (default)", dict()),
                       ("Automatic", dict(Mode="Automatic")),
                       ("Single Offset 3 mm", dict(Mode="Single Offset", Offset=3.0))]:
    measured = median_time(lambda: NormalOffsetProbe(Input=stem, Source=OutputPort(phantom, 0), **options))
    record("probe filter (pvpython)", "%s at %d vertices" % (label, points), *measured,
           ratio=base[0] / measured[0], baseline="vtkProbeFilter at the vertices")
    print("%-28s %.4f s (%.4f-%.4f), %.2f M points/s, %.2fx vtkProbeFilter"
          % (label, measured[0], measured[1], measured[2], points / measured[0] / 1e6, base[0] / measured[0]))
