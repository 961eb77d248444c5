"""MPI test of CT Volume Reader: under `mpirun -np N pvbatch` every rank reads only its piece of a
DICOM series, a MetaImage, a raw NRRD (detached header) and a NIfTI file, and the pieces equal the serial volume voxel for voxel,
with the serial geometry.

Run by ctest with the system python3; starts pvpython and mpirun itself."""
import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ibctest  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--np", type=int, default=3)
args = parser.parse_args()

out = ibctest.fresh_output_dir("mpi-reader-np%d" % args.np)
subprocess.run([os.environ["IBC_WRITE_TEST_VOLUMES"], os.path.join(out, "volumes")], check=True)
stage = os.path.join(os.path.dirname(os.path.abspath(__file__)), "MPIReaderStage.py")
ibctest.run_stages(stage, out, args.np, [["--name", "parallel"]])

from vtkmodules.util.numpy_support import vtk_to_numpy  # noqa: E402

checks = ibctest.Checker("RunMPIReader np=%d" % args.np)
checks.check(open(os.path.join(out, "parallel.ranks")).read().strip() == str(args.np),
             "pvbatch ran on %d ranks" % args.np)


pieces = ibctest.read_pieces


for source in ["dicom", "ct_mha", "ct_raw_nhdr", "ct_nii_gz"]:
    serial = pieces(os.path.join(out, "serial-%s.pvti" % source))[0]
    whole = serial.GetExtent()
    serial_hu = ibctest.image_array(serial, "HU")
    covered = np.zeros(serial_hu.shape, dtype=bool)
    parallel = pieces(os.path.join(out, "parallel-%s.pvti" % source))
    non_empty = [p for p in parallel if p.GetNumberOfPoints() > 0]
    checks.check(len(non_empty) == args.np, "%s: %d ranks hold a piece" % (source, len(non_empty)))
    equal = True
    geometry = True
    slabs = all(tuple(p.GetExtent()[:4]) == tuple(whole[:4]) for p in non_empty)
    checks.check(slabs, "%s: pieces are slabs of whole slices (a rank opens only its slices' files): %s"
                 % (source, [p.GetExtent()[4:] for p in non_empty]))
    for piece in non_empty:
        e = piece.GetExtent()
        equal &= piece.GetNumberOfPoints() < serial.GetNumberOfPoints()
        window = (slice(e[4] - whole[4], e[5] - whole[4] + 1), slice(e[2] - whole[2], e[3] - whole[2] + 1),
                  slice(e[0] - whole[0], e[1] - whole[0] + 1))
        equal &= np.array_equal(ibctest.image_array(piece, "HU"), serial_hu[window])
        geometry &= np.allclose(piece.GetOrigin(), serial.GetOrigin(), rtol=0, atol=1e-12)
        geometry &= np.allclose(piece.GetSpacing(), serial.GetSpacing(), rtol=0, atol=1e-12)
        covered[window] = True
    checks.check(equal and covered.all(),
                 "%s: pieces are proper parts, equal the serial volume voxel for voxel and cover it" % source)
    checks.check(geometry, "%s: pieces have the serial origin and spacing" % source)
checks.finish()
