"""Implant Remesh, Sizing Mode Adaptive, in pvpython, on the THA Phantom's stem as a CAD export
and as a segmented export (labelmap, marching cubes, smoothing, decimation) at two voxel sizes:
the result stays within Maximum Deviation of the input both ways (measured here independently
with vtkImplicitPolyDataDistance as well as by the filter), keeps its triangles well shaped,
needs fewer points than the uniform mesh that reaches the same deviation, and gets coarser as
the deviation allowed grows. Bad settings give an error and the pipeline recovers."""
import numpy as np
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkFiltersCore import vtkImplicitPolyDataDistance

import ibctest

ibctest.load_plugin(globals())
checks = ibctest.Checker("TestImplantRemeshAdaptive")


field = ibctest.field_value


def largest_distance(points, surface):
    distance = vtkImplicitPolyDataDistance()
    distance.SetInput(surface)
    return max(abs(distance.EvaluateFunction(p)) for p in points)


def points_of(data):
    return vtk_to_numpy(data.GetPoints().GetData())


inputs = {
    "CAD export": THAPhantom(Spacing=[3.0, 3.0, 3.0], GenerateTissueLabels=0),
    "segmented 0.5 mm": THAPhantom(Spacing=[3.0, 3.0, 3.0], GenerateTissueLabels=0,
                                   SurfaceKind="Segmented Export", SegmentationVoxelSize=0.5),
    "segmented 1.0 mm": THAPhantom(Spacing=[3.0, 3.0, 3.0], GenerateTissueLabels=0,
                                   SurfaceKind="Segmented Export", SegmentationVoxelSize=1.0),
}

# The segmented export itself: off the exact stem by a fraction of a voxel, with ground truth.
cad = servermanager.Fetch(inputs["CAD export"], idx=1)
for name in ("segmented 0.5 mm", "segmented 1.0 mm"):
    segmented = servermanager.Fetch(inputs[name], idx=1)
    off = largest_distance(points_of(segmented), cad)
    zones = vtk_to_numpy(segmented.GetPointData().GetArray("TrueGruenZone"))
    checks.check(segmented.GetNumberOfCells() <= 12500 and ibctest.open_or_nonmanifold_edges(segmented) == 0,
                 "%s: %d triangles, closed and manifold" % (name, segmented.GetNumberOfCells()))
    checks.check(0.02 < off < 0.5, "%s: vertices up to %.3f mm off the exact stem (a segmentation's error)" % (name, off))
    checks.check(set(np.unique(zones)) >= set(range(1, 15)), "%s: ground truth has all 14 Gruen zones" % name)

print("    input, deviation asked: points, deviation input->output / output->input (filter; independent), "
      ">= 30 deg, smallest curvature edge")
for name, phantom in inputs.items():
    surface = servermanager.Fetch(phantom, idx=1)
    counts = []
    for deviation in (0.2, 0.1, 0.05):
        remeshed = ImplantRemesh(Input=OutputPort(phantom, 1), SizingMode="Adaptive", MaximumDeviation=deviation)
        data = servermanager.Fetch(remeshed)
        independent_in = largest_distance(points_of(surface), data)
        independent_out = largest_distance(points_of(data)[::3], surface)
        print("    %s, %.2f mm: %d points, %.4f / %.4f mm (%.4f / %.4f), %.2f %%, %.3f mm" % (
            name, deviation, data.GetNumberOfPoints(), field(data, "DeviationInputToOutput"),
            field(data, "DeviationOutputToInput"), independent_in, independent_out,
            100 * field(data, "ShareAbove30Degrees"), field(data, "SmallestCurvatureEdgeLength")))
        checks.check(field(data, "HausdorffDistance") <= deviation and independent_in <= 1.02 * deviation and
                     independent_out <= 1.02 * deviation,
                     "%s, %.2f mm: within the deviation both ways" % (name, deviation))
        checks.check(field(data, "ShareAbove30Degrees") >= 0.98, "%s, %.2f mm: >= 98 %% of triangles >= 30 degrees" % (name, deviation))
        checks.check(ibctest.open_or_nonmanifold_edges(data) == 0, "%s, %.2f mm: closed and manifold" % (name, deviation))
        counts.append(data.GetNumberOfPoints())
        Delete(remeshed)
    checks.check(counts[0] < counts[1] < counts[2], "%s: fewer points as the deviation allowed grows %s" % (name, counts))

    # The uniform mesh that reaches 0.05 mm: the longest of these lengths that does.
    uniform_points = None
    for length in (1.5, 1.2, 1.0, 0.8, 0.65, 0.5, 0.4, 0.3):
        uniform = ImplantRemesh(Input=OutputPort(phantom, 1), TargetEdgeLength=length)
        data = servermanager.Fetch(uniform)
        Delete(uniform)
        if field(data, "HausdorffDistance") <= 0.05:
            uniform_points = data.GetNumberOfPoints()
            print("    %s: uniform reaches 0.05 mm at %.2f mm with %d points" % (name, length, uniform_points))
            break
    checks.check(uniform_points is None or counts[2] < uniform_points,
                 "%s: adaptive needs fewer points than uniform at the same deviation (%d vs %s)" % (name, counts[2], uniform_points))

# Bad settings: a clear error, then the next good request works.
bad = ImplantRemesh(Input=OutputPort(inputs["CAD export"], 1), SizingMode="Adaptive",
                    MinimumEdgeLength=2.0, MaximumEdgeLength=1.0)
with ibctest.StderrCapture() as captured:
    bad.UpdatePipeline()
checks.check("Minimum Edge Length must be" in captured.text,
             "Minimum above Maximum Edge Length is refused: %s" % [l for l in captured.text.splitlines() if "Minimum" in l][:1])
bad.MinimumEdgeLength = 0.1
bad.UpdatePipeline()
checks.check(bad.GetDataInformation().GetNumberOfPoints() > 0, "after fixing the settings the filter runs again")
checks.finish()
