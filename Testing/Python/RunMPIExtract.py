"""MPI test of Implant Extract: with the CT split over N ranks (each computing only its piece),
the metal's box is gathered on rank 0 and the surface equals the serial one point for point.

Run by ctest with the system python3; starts pvpython and mpirun itself."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ibctest  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--np", type=int, default=3)
args = parser.parse_args()
out = ibctest.fresh_output_dir("mpi-extract-np%d" % args.np)
stage = os.path.join(os.path.dirname(os.path.abspath(__file__)), "MPIExtractStage.py")
ibctest.run_stages(stage, out, args.np, [["--name", "parallel"]])

from vtkmodules.util.numpy_support import vtk_to_numpy  # noqa: E402

checks = ibctest.Checker("RunMPIExtract np=%d" % args.np)


def pieces(name):
    return ibctest.read_pieces(os.path.join(out, name + ".pvtp"))


serial = pieces("serial")[0]
parallel = [p for p in pieces("parallel") if p.GetNumberOfPoints() > 0]
checks.check(len(parallel) == 1, "one rank holds the surface (%d non-empty pieces)" % len(parallel))
result = parallel[0]
checks.check(result.GetNumberOfPoints() == serial.GetNumberOfPoints() and
             result.GetNumberOfCells() == serial.GetNumberOfCells(),
             "points and triangles equal serial: %d / %d vs %d / %d" % (
                 result.GetNumberOfPoints(), result.GetNumberOfCells(),
                 serial.GetNumberOfPoints(), serial.GetNumberOfCells()))
if result.GetNumberOfPoints() == serial.GetNumberOfPoints():
    difference = np.abs(vtk_to_numpy(result.GetPoints().GetData()) - vtk_to_numpy(serial.GetPoints().GetData())).max()
    checks.check(difference < 1e-9, "every point equals serial (largest difference %.1e mm)" % difference)
for name in ["Volume", "ThresholdSurfaceInflation", "MetalThreshold"]:
    a = result.GetFieldData().GetArray(name).GetValue(0)
    b = serial.GetFieldData().GetArray(name).GetValue(0)
    checks.check(abs(a - b) <= 1e-9 * max(1.0, abs(b)), "%s equals serial: %.6f vs %.6f" % (name, a, b))
checks.finish()
