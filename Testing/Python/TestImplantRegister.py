"""Implant Register in pvpython, on THA Phantom: the CAD stem displaced by up to 20 mm and 20
degrees registers back onto the implant in the CT within 0.3 mm RMS at the vertices and 0.5
degrees (goal of the issue), onto Implant Extract's surface and onto the CT directly; a large
turn is found by the principal-axes starts; a target missing the shoulder works with a lower
Overlap; the ITK transform file holds the inverse (resampling) transform in LPS; a CAD surface in
metres is refused with a clear message."""
import math
import os

import numpy as np
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkPolyData

import ibctest

ibctest.load_plugin(globals())
checks = ibctest.Checker("TestImplantRegister")
out = ibctest.output_dir("implant-register")

phantom = THAPhantom(BloomingWidth=2.0)
cad = OutputPort(phantom, 1)
cad_data = servermanager.Fetch(phantom, idx=1)
true_points = vtk_to_numpy(cad_data.GetPoints().GetData()).copy()
extracted = ImplantExtract(Input=OutputPort(phantom, 0))


def rotation_matrix(axis, degrees):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    angle = math.radians(degrees)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def displaced(rotation, translation):
    """The CAD stem moved by p -> R (p - c) + c + t, c its centroid (a user's rough placement)."""
    matrix = np.eye(4)
    center = true_points.mean(axis=0)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = center + np.asarray(translation) - rotation @ center
    return surface_source((true_points @ rotation.T) + matrix[:3, 3]), matrix


def surface_source(points):
    """A pipeline source holding the CAD stem with the given point positions."""
    surface = vtkPolyData()
    surface.DeepCopy(cad_data)
    surface.GetPoints().SetData(numpy_to_vtk(np.ascontiguousarray(points), deep=1))
    source = TrivialProducer()
    source.GetClientSideObject().SetOutput(surface)
    return source


def register(moving, target, **properties):
    registration = ImplantRegister(Input=moving, Target=target, **properties)
    data = servermanager.Fetch(registration)
    return registration, data


def errors(data, displacement):
    """Vertex RMS error (mm) against the true stem, and the residual rotation (degrees)."""
    points = vtk_to_numpy(data.GetPoints().GetData())
    rms = math.sqrt(((points - true_points) ** 2).sum(axis=1).mean())
    matrix = np.array(data.GetFieldData().GetArray("RegistrationMatrix").GetTuple(0)).reshape(4, 4)
    residual = (matrix @ displacement)[:3, :3]
    angle = math.degrees(math.acos(max(-1.0, min(1.0, (np.trace(residual) - 1.0) / 2.0))))
    return rms, angle, matrix


# --- Displacements up to 20 mm and 20 degrees, onto the extracted surface.
cases = [((0, 0, 1), 20, (20, 0, 0)), ((1, 1, 0), 20, (-8, 12, 10)), ((0.3, -1, 0.5), -20, (10, -15, 5)),
         ((1, 0, 0), 12, (0, 0, -20)), ((0, 1, 0), -17, (5, 5, 5))]
for axis, degrees, translation in cases:
    moving, displacement = displaced(rotation_matrix(axis, degrees), translation)
    registration, data = register(moving, extracted)
    rms, angle, _ = errors(data, displacement)
    checks.check(rms <= 0.3 and angle <= 0.5,
                 "%g deg about %s, %s mm: vertex RMS error %.3f mm <= 0.3, rotation error %.3f deg <= 0.5 "
                 "(ICP RMS %.3f mm, start: %s)" % (degrees, axis, translation, rms, angle,
                                                  data.GetFieldData().GetArray("RMSDistance").GetValue(0),
                                                  data.GetFieldData().GetAbstractArray("InitialAlignment").GetValue(0)))
    Delete(registration)
    Delete(moving)

# --- Onto the CT directly (the metal surface is extracted inside).
moving, displacement = displaced(rotation_matrix((1, -1, 1), 20), (15, -10, 8))
registration, data = register(moving, OutputPort(phantom, 0))
rms, angle, matrix = errors(data, displacement)
checks.check(rms <= 0.3 and angle <= 0.5,
             "target = the CT itself: vertex RMS error %.3f mm, rotation error %.3f deg" % (rms, angle))
table = servermanager.Fetch(registration, idx=1)
from_table = np.array([[table.GetColumn(c).GetValue(r) for c in range(4)] for r in range(4)])
checks.check(np.allclose(from_table, matrix, atol=1e-12), "output port 1 holds the 4x4 matrix")
Delete(registration)
Delete(moving)

# --- A large turn: only the principal-axes starts find it.
moving, displacement = displaced(rotation_matrix((0.2, 1, 0.1), 150), (30, -20, 40))
registration, data = register(moving, extracted)
rms, angle, _ = errors(data, displacement)
checks.check(rms <= 0.3 and angle <= 0.5,
             "150 deg, 53 mm: vertex RMS error %.3f mm, rotation error %.3f deg (start: %s)"
             % (rms, angle, data.GetFieldData().GetAbstractArray("InitialAlignment").GetValue(0)))
Delete(registration)
Delete(moving)

# --- A target without the shoulder and neck (cut off above 110 mm along the stem axis): the CAD
# parts the target lacks are trimmed by the automatic overlap; a fixed 0.9 would fail.
frame = servermanager.Fetch(phantom, idx=1).GetFieldData()
tip = np.array(frame.GetArray("StemTipPoint").GetTuple(0))
axis = np.array(frame.GetArray("StemAxisDirection").GetTuple(0))
cut = Clip(Input=extracted, ClipType="Plane", Invert=1)
cut.ClipType.Origin = list(tip + 110.0 * axis)
cut.ClipType.Normal = list(axis)
partial = ExtractSurface(Input=cut)
moving, displacement = displaced(rotation_matrix((0, 0, 1), 15), (10, 10, 0))
with ibctest.StderrCapture() as captured:
    registration, data = register(moving, partial)
rms, angle, _ = errors(data, displacement)
checks.check(rms <= 0.3 and angle <= 0.5,
             "target missing the shoulder, automatic overlap (%.2f kept): vertex RMS error %.3f mm, "
             "rotation error %.3f deg" % (data.GetFieldData().GetArray("InlierFraction").GetValue(0), rms, angle))
checks.check("matched the target" in captured.text, "a warning says that much of the CAD was trimmed")
Delete(registration)

# --- Thick slices (0.5 x 0.5 x 2 mm voxels): the extraction along z is coarser, the goal holds.
thick = THAPhantom(BloomingWidth=2.0, Spacing=[0.5, 0.5, 2.0])
thick_truth = servermanager.Fetch(thick, idx=1)
moving, displacement = displaced(rotation_matrix((1, 0.5, 0), 15), (10, -10, 10))
registration, data = register(moving, OutputPort(thick, 0))
rms, angle, _ = errors(data, displacement)
checks.check(rms <= 0.3 and angle <= 0.5,
             "2 mm slices, CT target: vertex RMS error %.3f mm, rotation error %.3f deg" % (rms, angle))
Delete(registration)

# --- The ITK transform file: the inverse transform (resampling convention), in LPS.
for coordinates in ["LPS", "RAS"]:
    path = os.path.join(out, "stem-%s.tfm" % coordinates)
    if os.path.exists(path):
        os.remove(path)
    registration, data = register(moving, extracted, TransformFileName=path, DataCoordinates=coordinates)
    matrix = np.array(data.GetFieldData().GetArray("RegistrationMatrix").GetTuple(0)).reshape(4, 4)
    lines = open(path).read().splitlines()
    parameters = [float(v) for v in next(l for l in lines if l.startswith("Parameters:")).split()[1:]]
    stored = np.eye(4)
    stored[:3, :3] = np.array(parameters[:9]).reshape(3, 3)
    stored[:3, 3] = parameters[9:]
    flip = np.diag([-1.0, -1.0, 1.0, 1.0]) if coordinates == "RAS" else np.eye(4)
    expected = np.linalg.inv(flip @ matrix @ flip)
    checks.check(lines[0] == "#Insight Transform File V1.0" and "AffineTransform_double_3_3" in lines[2] and
                 np.allclose(stored, expected, atol=1e-9),
                 "%s data: the ITK file holds the inverse of the registration, in LPS" % coordinates)
    Delete(registration)
Delete(moving)

# --- A CAD surface in RAS (x and y negated, as 3D Slicer saves it) on the LPS CT: registered,
# and the likely coordinate mix-up named.
ras = surface_source(true_points * np.array([-1.0, -1.0, 1.0]))
with ibctest.StderrCapture() as captured:
    registration, data = register(ras, extracted)
rms = math.sqrt(((vtk_to_numpy(data.GetPoints().GetData()) - true_points) ** 2).sum(axis=1).mean())
checks.check(rms <= 0.3 and "RAS" in captured.text,
             "a CAD surface in RAS: registered (vertex RMS error %.3f mm) and RAS vs LPS named" % rms)
Delete(registration)

# --- A CAD surface in metres.
metres = surface_source(true_points * 0.001)
with ibctest.StderrCapture() as captured:
    registration, data = register(metres, extracted)
checks.check("metres" in captured.text and data.GetFieldData().GetArray("RegistrationMatrix") is None,
             "a CAD surface in metres: a clear error naming the units, the input passed through")

# --- A CAD surface with a NaN point: a clear error (it once ran out of memory).
broken_points = true_points.copy()
broken_points[10] = [float("nan"), 0.0, 0.0]
with ibctest.StderrCapture() as captured:
    registration, data = register(surface_source(broken_points), extracted)
checks.check("NaN" in captured.text and data.GetFieldData().GetArray("RegistrationMatrix") is None,
             "a CAD surface with a NaN point: a clear error, the input passed through")
checks.finish()
