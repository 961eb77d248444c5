"""Implant Remesh in pvpython: the phantom's CAD stem becomes a closed, manifold, outward,
regular mesh close to the input; number-of-points mode lands within 2 %; a non-manifold
surface and NaN coordinates are refused with a clear error; a surface in metres is warned
about."""
import os
import tempfile

import numpy as np
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403
from vtkmodules.util.numpy_support import vtk_to_numpy

import ibctest

ibctest.load_plugin(globals())
checks = ibctest.Checker("TestImplantRemesh")



phantom = THAPhantom(Spacing=[3.0, 3.0, 3.0])
remeshed = ImplantRemesh(Input=OutputPort(phantom, 1), TargetEdgeLength=1.0)
data = servermanager.Fetch(remeshed)
field = lambda name: data.GetFieldData().GetArray(name).GetValue(0)
open_edges = ibctest.open_or_nonmanifold_edges(data)
checks.check(open_edges == 0, "closed and manifold (vtkFeatureEdges finds %d open or non-manifold edges)" % open_edges)
points = vtk_to_numpy(data.GetPoints().GetData())
triangles = vtk_to_numpy(data.GetPolys().GetConnectivityArray()).reshape(-1, 3)
volume = np.einsum("ij,ij->i", points[triangles[:, 0]], np.cross(points[triangles[:, 1]], points[triangles[:, 2]])).sum() / 6
checks.check(volume > 0, "outward orientation (signed volume %.0f mm3)" % volume)
normals = vtk_to_numpy(data.GetPointData().GetNormals())
checks.check(normals.shape == points.shape, "point normals present")
print("    quality: " + ", ".join("%s %.4g" % (data.GetFieldData().GetArrayName(i), data.GetFieldData().GetArray(i).GetValue(0))
                              for i in range(data.GetFieldData().GetNumberOfArrays())))
checks.check(field("ShareAbove30Degrees") >= 0.99, "%.2f %% of triangles have all angles >= 30 degrees" % (100 * field("ShareAbove30Degrees")))
checks.check(field("EdgeLengthCV") <= 0.15, "edge length CV %.3f <= 0.15" % field("EdgeLengthCV"))
# The input's own vertices against the 1 mm facets: the chord of a 1 mm edge on the 5 mm rim is
# 0.025 mm, and the tightest fillets a little more.
checks.check(field("HausdorffDistance") <= 0.08, "Hausdorff distance %.3f mm to the input" % field("HausdorffDistance"))
checks.check(abs(field("AreaChangePercent")) <= 0.5, "area change %.3f %%" % field("AreaChangePercent"))
checks.check(abs(field("MeanEdgeLength") - 1.0) <= 0.05, "mean edge %.3f mm for a 1 mm target" % field("MeanEdgeLength"))
# Independent check of the Hausdorff figure: every output vertex lies on the phantom's exact stem
# surface (distance to the input CAD mesh, from vtkImplicitPolyDataDistance).
from vtkmodules.vtkFiltersCore import vtkImplicitPolyDataDistance
distance = vtkImplicitPolyDataDistance()
distance.SetInput(servermanager.Fetch(phantom, idx=1))
worst = max(abs(distance.EvaluateFunction(p)) for p in points[::7])
checks.check(worst <= 0.06, "output vertices within %.3f mm of the input surface (vtkImplicitPolyDataDistance)" % worst)

# Number of points mode.
for target in (3000, 15000):
    counted = ImplantRemesh(Input=OutputPort(phantom, 1), SizingMode="Number Of Points", TargetNumberOfPoints=target)
    counted.UpdatePipeline()
    count = counted.GetDataInformation().GetNumberOfPoints()
    # (within 2 %: the length is corrected during the iterations, not by remeshing again)
    checks.check(abs(count - target) <= 0.02 * target, "Number Of Points %d gives %d points" % (target, count))

# A non-manifold surface is refused with a message, and the pipeline stays usable.
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
fin_points = vtkPoints()
for p in ((0, 0, 0), (10, 0, 0), (5, 8, 0), (5, -8, 0), (5, 0, 8)):
    fin_points.InsertNextPoint(p)
fin_cells = vtkCellArray()
for t in ((0, 1, 2), (1, 0, 3), (0, 1, 4)):  # three triangles on the edge (0, 1)
    fin_cells.InsertNextCell(3, t)
fin_data = vtkPolyData()
fin_data.SetPoints(fin_points)
fin_data.SetPolys(fin_cells)
fin_clean = TrivialProducer()
fin_clean.GetClientSideObject().SetOutput(fin_data)
refused = ImplantRemesh(Input=fin_clean, TargetEdgeLength=1.0)
with ibctest.StderrCapture() as captured:
    refused.UpdatePipeline()
checks.check("non-manifold" in captured.text, "non-manifold input refused: %s" % [l for l in captured.text.splitlines() if "non-manifold" in l][:1])

# A point with NaN coordinates is refused with a message (not a hang), the pipeline usable.
nan_data = vtkPolyData()
nan_data.DeepCopy(fin_data)
nan_data.GetPolys().Initialize()
nan_data.GetPolys().InsertNextCell(3, (0, 1, 2))
nan_data.GetPoints().SetPoint(2, float("nan"), 8.0, 0.0)
nan_source = TrivialProducer()
nan_source.GetClientSideObject().SetOutput(nan_data)
with ibctest.StderrCapture() as captured:
    ImplantRemesh(Input=nan_source, TargetEdgeLength=1.0).UpdatePipeline()
checks.check("NaN" in captured.text, "NaN coordinates refused: %s" % [l for l in captured.text.splitlines() if "NaN" in l][:1])

# A stem in metres is warned about.
metres = Transform(Input=OutputPort(phantom, 1))
metres.Transform.Scale = [0.001, 0.001, 0.001]
with ibctest.StderrCapture() as captured:
    ImplantRemesh(Input=metres, TargetEdgeLength=0.001).UpdatePipeline()
checks.check("metres" in captured.text, "a surface in metres is reported")
checks.finish()
