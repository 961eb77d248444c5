"""Implant Extract and Implant Register as a user runs them (pvpython, the whole filter), each
against the simple alternative in the same run: ParaView's Contour at the same threshold (what
a threshold segmentation gives), and VTK's iterative closest point transform (rigid, from the
same start) onto the same extracted surface. Prints the median, min and max wall time of
--runs runs, and how far each result lies from the phantom's truth. Not a test.

    pvpython Testing/Benchmarks/BenchmarkExtractRegister.py [--runs 3]
"""
import argparse
import math
import os
import sys
import time

from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonTransforms import vtkTransform
from vtkmodules.vtkFiltersGeneral import vtkTransformPolyDataFilter
from vtkmodules.vtkCommonDataModel import vtkIterativeClosestPointTransform

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "Python"))
sys.path.insert(0, here)
import ibctest  # noqa: E402
from ibcbench import record, summary, time_filter  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=3)
args = parser.parse_args()
ibctest.load_plugin(globals())


def timed(make):
    """Wall times of `runs` fresh filters, and the last output."""
    return time_filter(make, args.runs, fetch=True)


def vertex_rms(a, b):
    d = vtk_to_numpy(a.GetPoints().GetData()) - vtk_to_numpy(b.GetPoints().GetData())
    return math.sqrt(float((d * d).sum(axis=1).mean()))


phantom = THAPhantom(GenerateTissueLabels=0)
ct = OutputPort(phantom, 0)
ct.UpdatePipeline()  # the volume made before any timing (a request for the surface alone leaves it)
truth = servermanager.Fetch(phantom, idx=1)
voxels = phantom.GetDataInformation(0).GetNumberOfPoints()

# --- Extract against Contour at the threshold Implant Extract chose.
extracted, extract_times = timed(lambda: ImplantExtract(Input=ct))
threshold = extracted.GetFieldData().GetArray("MetalThreshold").GetValue(0)
_, contour_times = timed(lambda: Contour(Input=ct, ContourBy=["POINTS", "HU"], Isosurfaces=[threshold]))
e, c = summary(extract_times), summary(contour_times)
print("%d voxels: Implant Extract %.3f s (%.3f-%.3f); Contour at %.0f HU %.3f s (%.3f-%.3f)"
      % (voxels, e[0], e[1], e[2], threshold, c[0], c[1], c[2]))
record("extract (pvpython)", "Implant Extract, %d voxels" % voxels, *e, ratio=c[0] / e[0],
       baseline="Contour at the same threshold")
record("extract (pvpython)", "Contour at the threshold, %d voxels" % voxels, *c)

# --- Register a displaced CAD stem onto the CT, against VTK's ICP onto the extracted surface.
move = vtkTransform()
move.PostMultiply()
move.RotateWXYZ(6.0, 0.3, 1.0, 0.2)
move.Translate(3.0, -4.0, 5.0)
displace = vtkTransformPolyDataFilter()
displace.SetInputData(truth)
displace.SetTransform(move)
displace.Update()
cad = PVTrivialProducer()
cad.GetClientSideObject().SetOutput(displace.GetOutput())
registered, register_times = timed(lambda: ImplantRegister(Input=cad, Target=ct))


def icp():
    transform = vtkIterativeClosestPointTransform()
    transform.SetSource(displace.GetOutput())
    transform.SetTarget(extracted)
    transform.GetLandmarkTransform().SetModeToRigidBody()
    transform.SetMaximumNumberOfIterations(100)
    transform.SetMaximumNumberOfLandmarks(5000)
    transform.StartByMatchingCentroidsOff()
    transform.Update()
    apply = vtkTransformPolyDataFilter()
    apply.SetInputData(displace.GetOutput())
    apply.SetTransform(transform)
    apply.Update()
    return apply.GetOutput()


icp_times = []
for _ in range(args.runs):
    start = time.perf_counter()
    icp_result = icp()
    icp_times.append(time.perf_counter() - start)
r, i = summary(register_times), summary(icp_times)
print("Implant Register (CAD onto the CT, extraction included) %.3f s (%.3f-%.3f), vertex RMS to the "
      "truth %.3f mm; VTK ICP onto the extracted surface %.3f s (%.3f-%.3f), %.3f mm"
      % (r[0], r[1], r[2], vertex_rms(registered, truth), i[0], i[1], i[2], vertex_rms(icp_result, truth)))
record("register (pvpython)", "Implant Register onto the CT: vertex RMS %.3f mm" % vertex_rms(registered, truth),
       *r, ratio=i[0] / r[0], baseline="VTK ICP onto the extracted surface")
record("register (pvpython)", "VTK ICP onto the extracted surface: vertex RMS %.3f mm"
       % vertex_rms(icp_result, truth), *i)
