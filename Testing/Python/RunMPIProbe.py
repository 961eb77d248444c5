"""MPI test of Normal Offset Probe: with the THA Phantom's volume split by extents over N ranks
and the stem surface on rank 0 or split over the ranks, every vertex gets the serial value (to
1e-6 relative), and no rank samples from the whole volume.

Run by ctest with the system python3; starts pvpython and mpirun itself."""
import argparse
import os
import shutil
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ibctest  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--np", type=int, default=2)
args = parser.parse_args()

out = ibctest.output_dir("mpi-probe-np%d" % args.np)
shutil.rmtree(out)
os.makedirs(out)
stage = os.path.join(os.path.dirname(os.path.abspath(__file__)), "MPIProbeStage.py")
ibctest.run_stages(stage, out, args.np, [["--name", "parallel%d" % d, "--distribute", str(d)] for d in (0, 1)])

from vtkmodules.util.numpy_support import vtk_to_numpy  # noqa: E402
from vtkmodules.vtkIOXML import vtkXMLPolyDataReader  # noqa: E402

checks = ibctest.Checker("RunMPIProbe np=%d" % args.np)


def read_all(meta):
    """Rows of every piece named in a .pvtp: (point ids, arrays, source extent)."""
    folder = os.path.dirname(meta)
    parts = []
    for piece in ElementTree.parse(meta).getroot().iter("Piece"):
        reader = vtkXMLPolyDataReader()
        reader.SetFileName(os.path.join(folder, piece.get("Source")))
        reader.Update()
        data = reader.GetOutput()
        extent = data.GetFieldData().GetArray("SourceExtent")
        extent = [int(extent.GetValue(i)) for i in range(6)] if extent else None
        if data.GetNumberOfPoints() == 0:
            parts.append((None, None, extent))
            continue
        pd = data.GetPointData()
        arrays = {pd.GetArrayName(i): vtk_to_numpy(pd.GetArray(i)) for i in range(pd.GetNumberOfArrays())}
        parts.append((arrays["PhantomPointId"], arrays, extent))
    return parts


for label in ("metal", "automatic", "offset", "cubic", "median"):
    serial = read_all(os.path.join(out, "serial-%s.pvtp" % label))[0]
    whole = serial[2]
    order = np.argsort(serial[0])
    ids = serial[0][order]
    for distribute in (0, 1):
        tag = "%s, surface %s" % (label, "split over ranks" if distribute else "on rank 0")
        parts = read_all(os.path.join(out, "parallel%d-%s.pvtp" % (distribute, label)))
        # The writer lists only non-empty pieces: one when the surface is on rank 0.
        checks.check(len(parts) == (args.np if distribute else 1), "%s: %d output pieces" % (tag, len(parts)))
        whole_voxels = np.prod([whole[1] - whole[0] + 1, whole[3] - whole[2] + 1, whole[5] - whole[4] + 1])
        piece_voxels = [np.prod([e[1] - e[0] + 1, e[3] - e[2] + 1, e[5] - e[4] + 1]) for _, _, e in parts if e]
        checks.check(max(piece_voxels) < whole_voxels,
                     "%s: largest volume piece sampled by a rank has %d of %d voxels" % (tag, max(piece_voxels), whole_voxels))
        seen = 0
        worst = 0.0
        same = True
        for part_ids, arrays, _ in parts:
            if part_ids is None:
                continue
            position = order[np.searchsorted(ids, part_ids)]
            same &= np.array_equal(serial[1]["vtkValidPointMask"][position], arrays["vtkValidPointMask"])
            a = serial[1]["HU"][position]
            b = arrays["HU"]
            same &= np.array_equal(np.isnan(a), np.isnan(b))
            finite = np.isfinite(a)
            if finite.any():
                worst = max(worst, float(np.max(np.abs(a[finite] - b[finite]) / np.maximum(np.abs(a[finite]), 1.0))))
            for name in ("InterfaceWidth", "SampleConfidence"):
                if name in arrays:
                    same &= np.allclose(serial[1][name][position], arrays[name], rtol=1e-9, atol=1e-9, equal_nan=True)
            if "HUProfile" in arrays:
                same &= np.allclose(serial[1]["HUProfile"][position], arrays["HUProfile"], rtol=1e-6, equal_nan=True)
            seen += len(part_ids)
        # A split surface repeats the points on its cuts.
        checks.check(seen == len(ids) if distribute == 0 else seen > len(ids), "%s: every vertex present (%d rows for %d vertices)" % (tag, seen, len(ids)))
        checks.check(same and worst <= 1e-6, "%s: values and masks equal serial (max relative difference %.1e)"
                     % (tag, worst))
checks.finish()
