"""MPI test of Implant Register: with the CAD stem split over N ranks and the CT computed piece by
piece, the registration equals the serial one and every rank moves its own piece of the stem.

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
out = ibctest.fresh_output_dir("mpi-register-np%d" % args.np)
stage = os.path.join(os.path.dirname(os.path.abspath(__file__)), "MPIRegisterStage.py")
ibctest.run_stages(stage, out, args.np, [["--name", "parallel"]])

from vtkmodules.util.numpy_support import vtk_to_numpy  # noqa: E402

checks = ibctest.Checker("RunMPIRegister np=%d" % args.np)


def pieces(name):
    return ibctest.read_pieces(os.path.join(out, name + ".pvtp"))


serial = pieces("serial")[0]
parallel = [p for p in pieces("parallel") if p.GetNumberOfPoints() > 0]
checks.check(len(parallel) == args.np, "every rank moved its own piece (%d non-empty pieces)" % len(parallel))
serial_matrix = np.array(serial.GetFieldData().GetArray("RegistrationMatrix").GetTuple(0))
serial_ids = vtk_to_numpy(serial.GetPointData().GetArray("PhantomPointId"))
serial_points = vtk_to_numpy(serial.GetPoints().GetData())
worst_matrix = 0.0
worst_point = 0.0
seen = np.zeros(len(serial_ids), dtype=bool)
for piece in parallel:
    matrix = np.array(piece.GetFieldData().GetArray("RegistrationMatrix").GetTuple(0))
    worst_matrix = max(worst_matrix, np.abs(matrix - serial_matrix).max())
    ids = vtk_to_numpy(piece.GetPointData().GetArray("PhantomPointId"))
    where = np.searchsorted(serial_ids, ids)
    worst_point = max(worst_point, np.abs(vtk_to_numpy(piece.GetPoints().GetData()) - serial_points[where]).max())
    seen[where] = True
checks.check(worst_matrix < 1e-9, "every rank holds the serial matrix (largest difference %.1e)" % worst_matrix)
checks.check(worst_point < 1e-9 and seen.all(),
             "the moved pieces equal the serial surface point for point (largest difference %.1e mm)" % worst_point)
checks.finish()
