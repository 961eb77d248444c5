"""MPI test of THA Phantom: `mpirun -np N pvbatch` must give the serial volume and surface, and
each rank must produce only its own piece of the volume.

Run by ctest with the system python3; starts pvpython and mpirun itself."""
import argparse
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ibctest  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--np", type=int, default=2)
args = parser.parse_args()

out = ibctest.output_dir("mpi-phantom-np%d" % args.np)
shutil.rmtree(out)
os.makedirs(out)
stage = os.path.join(os.path.dirname(os.path.abspath(__file__)), "MPIPhantomStage.py")
env = dict(os.environ)
subprocess.run([env["IBC_PVPYTHON"], stage, "--mode", "serial", "--out", out], check=True, env=env, timeout=600)
subprocess.run([env["IBC_MPIRUN"], "--allow-run-as-root", "--oversubscribe", "-np", str(args.np),
                env["IBC_PVBATCH"], stage, "--mode", "parallel", "--out", out],
               check=True, env=env, timeout=600)

from vtkmodules.util.numpy_support import vtk_to_numpy  # noqa: E402
from vtkmodules.vtkIOXML import vtkXMLImageDataReader, vtkXMLPolyDataReader  # noqa: E402

checks = ibctest.Checker("RunMPIPhantom np=%d" % args.np)
checks.check(open(os.path.join(out, "parallel.ranks")).read().strip() == str(args.np),
             "pvbatch ran on %d ranks" % args.np)


def pieces(meta_file):
    """(extent or None, file) of every piece named in a .pvti/.pvtp file."""
    root = ElementTree.parse(meta_file).getroot()
    folder = os.path.dirname(meta_file)
    result = []
    for piece in root.iter("Piece"):
        extent = piece.get("Extent")
        result.append(([int(v) for v in extent.split()] if extent else None,
                       os.path.join(folder, piece.get("Source"))))
    return result


def read_image(path):
    reader = vtkXMLImageDataReader()
    reader.SetFileName(path)
    reader.Update()
    return reader.GetOutput()


serial_pieces = pieces(os.path.join(out, "serial.pvti"))
serial = read_image(serial_pieces[0][1])
whole = serial.GetExtent()
dims = serial.GetDimensions()
serial_hu = vtk_to_numpy(serial.GetPointData().GetArray("HU")).reshape(dims[2], dims[1], dims[0])
serial_labels = vtk_to_numpy(serial.GetPointData().GetArray("TissueLabel")).reshape(dims[2], dims[1], dims[0])

covered = np.zeros(serial_hu.shape, dtype=bool)
parallel_pieces = pieces(os.path.join(out, "parallel.pvti"))
checks.check(len(parallel_pieces) == args.np, "%d volume pieces written" % len(parallel_pieces))
for extent, path in parallel_pieces:
    piece = read_image(path)
    e = piece.GetExtent()
    count = piece.GetNumberOfPoints()
    checks.check(count < serial.GetNumberOfPoints(),
                 "piece %s holds %d of %d voxels" % (e, count, serial.GetNumberOfPoints()))
    if count == 0:
        continue
    pd = piece.GetDimensions()
    hu = vtk_to_numpy(piece.GetPointData().GetArray("HU")).reshape(pd[2], pd[1], pd[0])
    labels = vtk_to_numpy(piece.GetPointData().GetArray("TissueLabel")).reshape(pd[2], pd[1], pd[0])
    window = (slice(e[4] - whole[4], e[5] - whole[4] + 1), slice(e[2] - whole[2], e[3] - whole[2] + 1),
              slice(e[0] - whole[0], e[1] - whole[0] + 1))
    checks.check(np.array_equal(hu, serial_hu[window]) and np.array_equal(labels, serial_labels[window]),
                 "piece %s equals the serial volume voxel for voxel" % (e,))
    checks.check(tuple(piece.GetOrigin()) == tuple(serial.GetOrigin()) and
                 tuple(piece.GetSpacing()) == tuple(serial.GetSpacing()), "piece geometry equals serial")
    covered[window] = True
checks.check(covered.all(), "pieces cover the whole extent")


def read_surface(path):
    reader = vtkXMLPolyDataReader()
    reader.SetFileName(path)
    reader.Update()
    return reader.GetOutput()


serial_surface = read_surface(pieces(os.path.join(out, "serial.pvtp"))[0][1])
serial_points = vtk_to_numpy(serial_surface.GetPoints().GetData())
serial_ids = vtk_to_numpy(serial_surface.GetPointData().GetArray("PhantomPointId"))
serial_class = vtk_to_numpy(serial_surface.GetPointData().GetArray("TrueTissueClass"))
triangles = 0
seen = np.zeros(len(serial_points), dtype=bool)
consistent = True
surface_pieces = pieces(os.path.join(out, "parallel.pvtp"))
for _, path in surface_pieces:
    part = read_surface(path)
    triangles += part.GetNumberOfCells()
    if part.GetNumberOfPoints() == 0:
        continue
    ids = vtk_to_numpy(part.GetPointData().GetArray("PhantomPointId"))
    position = np.searchsorted(serial_ids, ids)
    consistent &= np.array_equal(serial_ids[position], ids)
    consistent &= np.array_equal(vtk_to_numpy(part.GetPoints().GetData()), serial_points[position])
    consistent &= np.array_equal(vtk_to_numpy(part.GetPointData().GetArray("TrueTissueClass")),
                                 serial_class[position])
    seen[position] = True
checks.check(len(surface_pieces) == args.np, "%d surface pieces" % len(surface_pieces))
checks.check(triangles == serial_surface.GetNumberOfCells(),
             "distributed surface has the serial %d triangles (got %d)" % (serial_surface.GetNumberOfCells(), triangles))
checks.check(consistent and seen.all(), "distributed points and truth equal the serial ones")
checks.finish()
