"""Bad input, case by case, in one pvpython session: each case expects no crash, a message that
names the problem, an empty output (or, where the input is usable after all, a correct one),
and a pipeline that works again once the input or setting is put right. A summary table is
printed at the end."""
import os
import re
import tempfile

import numpy as np
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPolyData
from vtkmodules.vtkIOImage import vtkMetaImageWriter

import ibctest

ibctest.load_plugin(globals())
checks = ibctest.Checker("TestBadInputs")
work = tempfile.mkdtemp(prefix="ibc-bad-inputs-")

phantom = THAPhantom(Spacing=[3.0, 3.0, 3.0], GenerateTissueLabels=0)
stem = OutputPort(phantom, 1)
ct = servermanager.Fetch(phantom, idx=0)


def producer(data):
    source = TrivialProducer()
    source.GetClientSideObject().SetOutput(data)
    return source


def moved(scale=(1, 1, 1), translate=(0, 0, 0)):
    transform = Transform(Input=stem)
    transform.Transform.Scale = list(scale)
    transform.Transform.Translate = list(translate)
    return transform


def flipped_ct():
    """The phantom CT stored with x reversed and a direction matrix that says so: the same
    voxels at the same physical places."""
    dims, spacing, origin = ct.GetDimensions(), ct.GetSpacing(), ct.GetOrigin()
    hu = vtk_to_numpy(ct.GetPointData().GetArray("HU")).reshape(dims[2], dims[1], dims[0])
    image = vtkImageData()
    image.SetDimensions(dims)
    image.SetSpacing(spacing)
    image.SetOrigin(origin[0] + (dims[0] - 1) * spacing[0], origin[1], origin[2])
    image.SetDirectionMatrix(-1, 0, 0, 0, 1, 0, 0, 0, 1)
    array = numpy_to_vtk(np.ascontiguousarray(hu[:, :, ::-1]).ravel(), deep=1)
    array.SetName("HU")
    image.GetPointData().SetScalars(array)
    return producer(image)


def ct_with_nan():
    """The phantom CT as float with a few hundred NaN and infinite voxels around the stem."""
    image = vtkImageData()
    image.DeepCopy(ct)
    hu = vtk_to_numpy(ct.GetPointData().GetArray("HU")).astype(np.float32)
    generator = np.random.default_rng(3)
    hu[np.flatnonzero(hu > 2000)[::40]] = np.nan
    hu[generator.choice(hu.size, 200, replace=False)] = np.inf
    array = numpy_to_vtk(hu, deep=1)
    array.SetName("HU")
    image.GetPointData().SetScalars(array)
    return producer(image)


def image_without_arrays():
    image = vtkImageData()
    image.SetDimensions(ct.GetDimensions())
    image.SetSpacing(ct.GetSpacing())
    image.SetOrigin(ct.GetOrigin())
    return producer(image)


def empty_image():
    image = vtkImageData()
    image.SetExtent(0, -1, 0, -1, 0, -1)
    return producer(image)


def good_mha():
    path = os.path.join(work, "ct.mha")
    writer = vtkMetaImageWriter()
    writer.SetInputData(ct)
    writer.SetFileName(path)
    writer.SetCompression(False)
    writer.Write()
    return path


def truncated_mha():
    with open(good_mha(), "rb") as whole:
        data = whole.read()
    path = os.path.join(work, "cut.mha")
    with open(path, "wb") as cut:
        cut.write(data[: len(data) // 3])
    return path


def text_as_dcm():
    path = os.path.join(work, "notes.dcm")
    with open(path, "w") as text:
        text.write("operation notes, not an image\n" * 20)
    return path


def empty_folder():
    path = os.path.join(work, "empty")
    os.makedirs(path, exist_ok=True)
    return path


def cylinder_stem():
    cylinder = Cylinder(Resolution=64, Height=120.0, Radius=6.0, Capping=1)
    return Triangulate(Input=cylinder)


def bounds_of(proxy, port=0):
    return np.array(servermanager.Fetch(proxy, idx=port).GetBounds())


empty = producer(vtkPolyData())
good_zones = GruenZoneStats(Input=CorticalClassify(Input=NormalOffsetProbe(Input=stem, Source=phantom)))

# name, make the filter, text the message must contain, then a function that puts the input or
# setting right (None: the input is fine and the output must be right as it is).
cases = [
    ("remesh: empty surface", lambda: ImplantRemesh(Input=empty), "nothing to remesh",
     lambda f: setattr(f, "Input", stem)),
    ("remesh: surface in metres", lambda: ImplantRemesh(Input=moved(scale=(0.001, 0.001, 0.001))),
     "probably in metres", lambda f: setattr(f, "Input", stem)),
    ("register: a cylinder stopped at Maximum Iterations", lambda: ImplantRegister(Input=cylinder_stem(), Target=stem,
     MaximumIterations=3), "before the pose settled", lambda f: setattr(f, "MaximumIterations", 100)),
    ("remesh adaptive: minimum above maximum edge", lambda: ImplantRemesh(Input=stem, SizingMode="Adaptive",
     MinimumEdgeLength=2.0, MaximumEdgeLength=1.0), "Minimum Edge Length must be",
     lambda f: setattr(f, "MinimumEdgeLength", 0.2)),
    ("probe: empty surface", lambda: NormalOffsetProbe(Input=empty, Source=phantom), "surface is empty",
     lambda f: setattr(f, "Input", stem)),
    ("probe: empty volume", lambda: NormalOffsetProbe(Input=stem, Source=empty_image()), "volume (Source) is empty",
     lambda f: setattr(f, "Source", phantom)),
    ("probe: volume without arrays", lambda: NormalOffsetProbe(Input=stem, Source=image_without_arrays()),
     "no point array to sample", lambda f: setattr(f, "Source", phantom)),
    ("probe: NaN and infinite voxels", lambda: NormalOffsetProbe(Input=stem, Source=ct_with_nan()),
     "NaN or infinite voxels", lambda f: setattr(f, "Source", phantom)),
    ("extract: NaN and infinite voxels", lambda: ImplantExtract(Input=ct_with_nan()), "NaN or infinite",
     lambda f: setattr(f, "Input", phantom)),
    ("probe: surface 1 m away", lambda: NormalOffsetProbe(Input=moved(translate=(1000, 0, 0)), Source=phantom),
     "does not overlap the volume", lambda f: setattr(f, "Input", stem)),
    ("probe: surface in RAS", lambda: NormalOffsetProbe(Input=moved(scale=(-1, -1, 1)), Source=phantom),
     "RAS", lambda f: setattr(f, "Input", stem)),
    ("probe: surface in metres", lambda: NormalOffsetProbe(Input=moved(scale=(0.001, 0.001, 0.001)), Source=phantom),
     "metres", lambda f: setattr(f, "Input", stem)),
    ("probe: profile ends before it starts", lambda: NormalOffsetProbe(Input=stem, Source=phantom, Mode="Profile Mean",
     ProfileStart=5.0, ProfileEnd=1.0), "must be beyond Profile Start", lambda f: setattr(f, "ProfileEnd", 8.0)),
    ("probe: one profile sample", lambda: NormalOffsetProbe(Input=stem, Source=phantom, Mode="Automatic",
     ProfileSamples=1), "at least 2", lambda f: setattr(f, "ProfileSamples", 21)),
    ("classify: inverted thresholds", lambda: CorticalClassify(Input=NormalOffsetProbe(Input=stem, Source=phantom),
     Preset="Custom", CancellousThreshold=700.0, CorticalThreshold=150.0), "must be below Cortical Threshold",
     lambda f: (setattr(f, "CancellousThreshold", 150.0), setattr(f, "CorticalThreshold", 800.0))),
    ("zones: empty surface", lambda: GruenZoneStats(Input=empty), "no area",
     lambda f: setattr(f, "Input", good_zones.Input)),
    ("zones: a surface not classified", lambda: GruenZoneStats(Input=cylinder_stem()), "run Cortical Classify first",
     lambda f: setattr(f, "Input", good_zones.Input)),
    ("extract: empty CT", lambda: ImplantExtract(Input=empty_image()), "empty",
     lambda f: setattr(f, "Input", phantom)),
    ("extract: a single slice", lambda: ImplantExtract(Input=ExtractSubset(Input=phantom, VOI=[0, 20, 0, 20, 10, 10])),
     "needs a 3D volume", lambda f: setattr(f, "Input", phantom)),
    ("probe: a single-slice volume", lambda: NormalOffsetProbe(Input=stem, Source=ExtractSubset(Input=phantom,
     VOI=[0, 1000, 0, 1000, 10, 10])), "outside the volume", lambda f: setattr(f, "Source", phantom)),
    ("extract: CT without HU", lambda: ImplantExtract(Input=image_without_arrays()), "HU",
     lambda f: setattr(f, "Input", phantom)),
    ("register: empty CAD surface", lambda: ImplantRegister(Input=empty, Target=stem), "no triangles",
     lambda f: setattr(f, "Input", stem)),
    ("register: empty target", lambda: ImplantRegister(Input=stem, Target=empty), "no triangles",
     lambda f: setattr(f, "Target", stem)),
    ("register: CAD in metres", lambda: ImplantRegister(Input=moved(scale=(0.001, 0.001, 0.001)), Target=stem),
     "units", lambda f: setattr(f, "Input", stem)),
    ("reader: missing path", lambda: CTVolumeReader(FileName=os.path.join(work, "nowhere")), "does not exist",
     lambda f: setattr(f, "FileName", good_mha())),
    ("reader: folder without images", lambda: CTVolumeReader(FileName=empty_folder()), "holds no files",
     lambda f: setattr(f, "FileName", good_mha())),
    ("reader: a text file named .dcm", lambda: CTVolumeReader(FileName=text_as_dcm()), "is not a CT volume",
     lambda f: setattr(f, "FileName", good_mha())),
    ("reader: MetaImage cut to a third", lambda: CTVolumeReader(FileName=truncated_mha()), "cut short",
     lambda f: setattr(f, "FileName", good_mha())),
]

table = []
for name, make, expected, fix in cases:
    with ibctest.StderrCapture() as captured:
        proxy = make()
        proxy.UpdatePipeline()
    info = proxy.GetDataInformation()
    empty_output = info.GetNumberOfPoints() == 0 and info.GetNumberOfCells() == 0
    said = [line for line in captured.text.splitlines() if expected in line]
    message = re.sub(r"\x1b\[[0-9;]*m", "", said[0].split("): ", 1)[-1])[:90] if said else "-"
    checks.check(bool(said), "%s: says '%s' (%s)" % (name, expected, message))
    fixed_ok = True
    if fix is not None:
        fix(proxy)
        with ibctest.StderrCapture():
            proxy.UpdatePipeline()
        fixed_ok = proxy.GetDataInformation().GetNumberOfPoints() > 0 or proxy.GetDataInformation().GetNumberOfRows() > 0
        checks.check(fixed_ok, "%s: works again once put right" % name)
    table.append((name, message, "empty" if empty_output else "data", "yes" if fixed_ok else "NO"))

# Usable after all: the filters must give the right answer (a message where something was
# repaired).
reference_hu = vtk_to_numpy(servermanager.Fetch(NormalOffsetProbe(Input=stem, Source=phantom)).GetPointData().GetArray("HU"))


def triangle_soup():
    """The stem with every triangle on points of its own, as some STL readers give it."""
    surface = servermanager.Fetch(phantom, idx=1)
    points = vtk_to_numpy(surface.GetPoints().GetData())
    triangles = vtk_to_numpy(surface.GetPolys().GetConnectivityArray()).reshape(-1, 3)
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.vtkCommonDataModel import vtkCellArray
    from vtkmodules.util.numpy_support import numpy_to_vtkIdTypeArray
    soup = vtkPolyData()
    soup_points = vtkPoints()
    soup_points.SetData(numpy_to_vtk(points[triangles].reshape(-1, 3).copy(), deep=1))
    soup.SetPoints(soup_points)
    cells = vtkCellArray()
    cells.SetData(3, numpy_to_vtkIdTypeArray(np.arange(triangles.size, dtype=np.int64), deep=1))
    soup.SetPolys(cells)
    return producer(soup)


def valid_share(data):
    mask = vtk_to_numpy(data.GetPointData().GetArray("vtkValidPointMask"))
    return mask.mean()


# An STL triangle soup straight into the probe: named, and right once merged.
soup_probe = NormalOffsetProbe(Input=triangle_soup(), Source=phantom)
with ibctest.StderrCapture() as captured:
    soup_probe.UpdatePipeline()
checks.check("share no points" in captured.text, "probe: an STL triangle soup is named")
soup_probe.Input = ImplantRemesh(Input=soup_probe.Input)
soup_probe.UpdatePipeline()
checks.check(soup_probe.GetDataInformation().GetNumberOfPoints() > 0, "probe: the merged soup samples")
table.append(("probe: an STL triangle soup", "The surface's triangles share no points (an STL read without merging)",
              "data", "yes"))

usable = [
    ("inward normals (reversed triangles and normals)", lambda: NormalOffsetProbe(Input=ReverseSense(Input=stem,
     ReverseNormals=1), Source=phantom), None,
     lambda d: np.nanmax(np.abs(vtk_to_numpy(d.GetPointData().GetArray("HU")) - reference_hu)) < 1e-3),
    ("an open surface (half the stem clipped off)", lambda: NormalOffsetProbe(Input=Triangulate(Input=ExtractSurface(
     Input=Clip(Input=stem, ClipType="Plane", Invert=1)))), None, lambda d: valid_share(d) > 0.95),
    ("an STL triangle soup into Implant Remesh", lambda: ImplantRemesh(Input=triangle_soup()), "merged",
     lambda d: ibctest.open_or_nonmanifold_edges(d) == 0),
    ("voxels 0.5 x 0.5 x 6 mm", lambda: NormalOffsetProbe(Input=OutputPort(aniso, 1), Source=aniso), None,
     lambda d: valid_share(d) > 0.95),
]
aniso = THAPhantom(Spacing=[0.5, 0.5, 6.0], GenerateTissueLabels=0)
for name, make, expected, right in usable:
    with ibctest.StderrCapture() as captured:
        proxy = make()
        if proxy.GetProperty("Source") is not None and proxy.Source is None:
            proxy.Source = phantom
        proxy.UpdatePipeline()
    data = servermanager.Fetch(proxy)
    said = [line for line in captured.text.splitlines() if expected and expected in line]
    checks.check(expected is None or bool(said), "%s: says '%s'" % (name, expected))
    checks.check(bool(right(data)), "%s: the result is right" % name)
    table.append((name, re.sub(r"\x1b\[[0-9;]*m", "", said[0].split("): ", 1)[-1])[:90] if said else "(usable)",
                  "data", "n/a"))

# Usable after all: a CT whose direction matrix flips x is the same CT. Every filter must read it
# where it is (Implant Extract once mirrored it about the volume's origin).
flipped = flipped_ct()
reference = bounds_of(ImplantExtract(Input=phantom))
got = bounds_of(ImplantExtract(Input=flipped))
checks.check(np.abs(got - reference).max() < 0.5, "extract on a CT with a flipped direction matrix: bounds %s vs %s" % (
    np.round(got, 1), np.round(reference, 1)))
registered = ImplantRegister(Input=stem, Target=flipped)
error = np.linalg.norm(vtk_to_numpy(servermanager.Fetch(registered).GetPoints().GetData()) -
                       vtk_to_numpy(servermanager.Fetch(phantom, idx=1).GetPoints().GetData()), axis=1)
checks.check(error.mean() < 1.0, "register onto the flipped CT: mean %.2f mm from the truth" % error.mean())
probe = lambda source: vtk_to_numpy(servermanager.Fetch(NormalOffsetProbe(Input=stem, Source=source)).GetPointData().GetArray("HU"))
difference = np.nanmax(np.abs(probe(flipped) - probe(phantom)))
checks.check(difference < 1e-3, "probe on the flipped CT equals the original (largest difference %.2g HU)" % difference)
table.append(("flipped direction matrix: extract, register, probe", "(no message: usable)", "data", "n/a"))

print("\n| case | message | output | works again once put right |\n| --- | --- | --- | --- |")
for row in table:
    print("| %s | %s | %s | %s |" % row)
checks.finish()
