"""MPI test of Cortical Classify and Gruen Zone Stats: with the volume split over N ranks and
the stem surface on rank 0 or split over the ranks, the zone table (written once, by rank 0)
and every vertex's TissueClass and GruenZone equal the serial ones.

Run by ctest with the system python3; starts pvpython and mpirun itself."""
import argparse
import csv
import math
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

out = ibctest.output_dir("mpi-zones-np%d" % args.np)
shutil.rmtree(out)
os.makedirs(out)
stage = os.path.join(os.path.dirname(os.path.abspath(__file__)), "MPIZonesStage.py")
ibctest.run_stages(stage, out, args.np, [["--name", "parallel%d" % d, "--distribute", str(d)] for d in (0, 1)])

from vtkmodules.util.numpy_support import vtk_to_numpy  # noqa: E402
from vtkmodules.vtkIOXML import vtkXMLPolyDataReader  # noqa: E402

checks = ibctest.Checker("RunMPIZones np=%d" % args.np)


def read_table(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def read_points(meta):
    folder = os.path.dirname(meta)
    merged = {}
    for piece in ElementTree.parse(meta).getroot().iter("Piece"):
        reader = vtkXMLPolyDataReader()
        reader.SetFileName(os.path.join(folder, piece.get("Source")))
        reader.Update()
        data = reader.GetOutput()
        if data.GetNumberOfPoints() == 0:
            continue
        ids = vtk_to_numpy(data.GetPointData().GetArray("PhantomPointId"))
        classes = vtk_to_numpy(data.GetPointData().GetArray("TissueClass"))
        zones = vtk_to_numpy(data.GetPointData().GetArray("GruenZone"))
        for i, c, z in zip(ids, classes, zones):
            merged.setdefault(int(i), set()).add((int(c), int(z)))
    return merged


serial_table = read_table(os.path.join(out, "serial.csv"))
serial_points = read_points(os.path.join(out, "serial.pvtp"))
for distribute in (0, 1):
    tag = "surface split over ranks" if distribute else "surface on rank 0"
    table = read_table(os.path.join(out, "parallel%d.csv" % distribute))
    checks.check(len(table) == len(serial_table) == 15, "%s: the table has %d rows, written once" % (tag, len(table)))
    worst = 0.0
    counts_equal = True
    for a, b in zip(serial_table, table):
        counts_equal &= a["Zone"] == b["Zone"] and a["NumberOfPoints"] == b["NumberOfPoints"]
        for name in a:
            x, y = float(a[name]), float(b[name])
            if not (math.isnan(x) and math.isnan(y)):
                worst = max(worst, abs(x - y) / max(abs(x), 1.0))
    checks.check(counts_equal, "%s: zones and point counts equal serial (shared points counted once)" % tag)
    checks.check(worst <= 1e-9, "%s: every table value equals serial (max relative difference %.1e)" % (tag, worst))
    points = read_points(os.path.join(out, "parallel%d.pvtp" % distribute))
    same = points.keys() == serial_points.keys() and all(points[k] == serial_points[k] for k in points)
    checks.check(same, "%s: TissueClass and GruenZone of every vertex equal serial" % tag)
checks.finish()
