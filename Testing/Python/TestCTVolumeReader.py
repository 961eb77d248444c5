"""pvpython test of CT Volume Reader.

ibcWriteTestVolumes writes, with ITK/GDCM, an oblique CT of known geometry and HU: a DICOM series
stored as unsigned values with slope 0.5 / intercept -1024, its files named in neither slice nor
reverse order and its slices stored against the slice normal, a scout series in the same folder,
and NRRD, NIfTI (.nii, .nii.gz) and MetaImage (.mha, .mhd) files. Every voxel the reader returns
must hold the written HU of the voxel at its physical position. ParaView's own DICOM reader gives
an independent decoding of the HU (not of the geometry, which it loses)."""
import json
import os
import shutil
import subprocess

import numpy as np
from paraview.simple import *  # noqa: F401,F403
from paraview import servermanager

import ibctest

ibctest.load_plugin(globals())
checks = ibctest.Checker("TestCTVolumeReader")
out = ibctest.output_dir("ct-volume-reader")
shutil.rmtree(out)
subprocess.run([os.environ["IBC_WRITE_TEST_VOLUMES"], out], check=True)
written = json.load(open(os.path.join(out, "geometry.json")))
w_origin = np.array(written["origin"])
w_spacing = np.array(written["spacing"])
w_direction = np.array(written["direction"]).reshape(3, 3)


def written_hu(index, integral):
    code = 37 * index[..., 0] + 101 * index[..., 1] + 211 * index[..., 2]
    return -1024.0 + (code % 4095) if integral else -1024.0 + 0.5 * (code % 8190)


def voxel_positions(image):
    """Physical position of every voxel (x fastest), from the image's own geometry."""
    e = image.GetExtent()
    k, j, i = np.meshgrid(np.arange(e[4], e[5] + 1), np.arange(e[2], e[3] + 1), np.arange(e[0], e[1] + 1),
                          indexing="ij")
    index = np.stack([i.ravel(), j.ravel(), k.ravel()], axis=1).astype(float)
    matrix = np.array([[image.GetDirectionMatrix().GetElement(r, c) for c in range(3)] for r in range(3)])
    return np.array(image.GetOrigin()) + (index * np.array(image.GetSpacing())) @ matrix.T


def check_every_voxel(image, integral, label, ras=False):
    points = voxel_positions(image)
    if ras:
        points[:, :2] *= -1.0  # back to LPS, where the volume was written
    index = ((points - w_origin) @ w_direction) / w_spacing  # the direction is orthogonal
    nearest = np.rint(index).astype(int)
    worst = np.abs(index - nearest).max()
    hu = ibctest.array(image, "HU").astype(float)
    wrong = int(np.count_nonzero(hu != written_hu(nearest, integral)))
    checks.check(worst < 1e-4 and wrong == 0 and len(hu) == np.prod(written["dimensions"]),
                 "%s: all %d voxels at their written position (worst index error %.1e) with their HU "
                 "(%d wrong)" % (label, len(hu), worst, wrong))
    return hu


# --- DICOM series: HU through slope/intercept, oblique, reversed and shuffled slices.
with ibctest.StderrCapture() as captured:
    dicom = CTVolumeReader(FileName=os.path.join(out, "dicom"))
    dicom.UpdatePipeline()
checks.check("Scout" in captured.text and "Series" in captured.text,
             "warning names the other series and the Series property")
series_list = list(dicom.GetProperty("AvailableSeries"))
checks.check(len(series_list) == 2 and "Oblique CT" in series_list[0] and "Scout" in series_list[1],
             "AvailableSeries lists both series, largest first: %s" % series_list)
checks.check(ibctest.uncached_ranges(dicom) == [],
             "the HU range is computed with the volume: ParaView's information pass walks no voxel "
             "when a filter is added")
image = servermanager.Fetch(dicom)
checks.check(image.GetPointData().GetArray("HU").GetDataTypeAsString() == "float",
             "half-HU values (slope 0.5) come out as float")
dicom_hu = check_every_voxel(image, False, "DICOM series")
field = image.GetFieldData()
checks.check(field.GetAbstractArray("CoordinateSystem").GetValue(0) == "LPS" and
             field.GetAbstractArray("SeriesInstanceUID").GetValue(0) == written["dicom_series_uid"],
             "field data records LPS and the series UID")

dicom.Series = written["scout_series_uid"]
scout = servermanager.Fetch(dicom)
checks.check(scout.GetDimensions() == (8, 8, 3) and abs(scout.GetSpacing()[2] - 5.0) < 1e-9,
             "Series chooses the scout by UID: %s" % (scout.GetDimensions(),))
dicom.Series = series_list[0]
checks.check(servermanager.Fetch(dicom).GetDimensions() == tuple(written["dimensions"]),
             "Series chooses the CT by its label")

# ParaView's own DICOM reader decodes the same HU (it loses the geometry): same multiset of values.
alone = os.path.join(out, "dicom-ct-only")
os.makedirs(alone)
for name in os.listdir(os.path.join(out, "dicom")):
    if name.startswith("IM"):
        shutil.copy(os.path.join(out, "dicom", name), alone)
paraview_reader = DICOMReaderdirectory(FileName=alone)
paraview_image = servermanager.Fetch(paraview_reader)
paraview_hu = ibctest.array(paraview_image, paraview_image.GetPointData().GetArray(0).GetName()).astype(float)
checks.check(np.array_equal(np.sort(paraview_hu), np.sort(dicom_hu)),
             "ParaView's DICOM reader decodes the same %d HU values" % len(paraview_hu))
checks.check(np.allclose(paraview_image.GetOrigin(), 0.0),
             "(ParaView's reader puts the volume at the origin: the geometry loss this reader fixes)")

# --- RAS output: same voxels, x and y negated.
ras_reader = CTVolumeReader(FileName=os.path.join(out, "dicom"), OutputCoordinates="RAS")
ras = servermanager.Fetch(ras_reader)
check_every_voxel(ras, False, "DICOM series in RAS", ras=True)
checks.check(ras.GetFieldData().GetAbstractArray("CoordinateSystem").GetValue(0) == "RAS",
             "field data records RAS")

# --- File formats: int16 HU.
for name in ["ct.nrrd", "ct_raw.nrrd", "ct_raw.nhdr", "ct.nii.gz", "ct.nii", "ct.mha", "ct.mhd"]:
    reader = CTVolumeReader(FileName=os.path.join(out, name))
    volume = servermanager.Fetch(reader)
    checks.check(volume.GetPointData().GetArray("HU").GetDataTypeAsString() == "short",
                 "%s: integral HU stay int16" % name)
    check_every_voxel(volume, True, name)
    Delete(reader)

# --- ParaView's File > Open offers the reader for the extensions and for a folder.
factory = servermanager.vtkSMProxyManager.GetProxyManager().GetReaderFactory()
session = servermanager.ActiveConnection.Session
for path in [os.path.join(out, "ct.nii.gz"), os.path.join(out, "ct.nrrd"), os.path.join(out, "ct.mha")]:
    possible = factory.GetPossibleReaders(path, session)
    names = [possible.GetString(i) for i in range(possible.GetLength())]
    checks.check("CTVolumeReader" in names, "File > Open offers CT Volume Reader for %s" % os.path.basename(path))
possible = factory.GetPossibleReaders(os.path.join(out, "dicom"), session)
names = [possible.GetString(i) for i in range(possible.GetLength())]
checks.check("CTVolumeReader" in names, "File > Open offers CT Volume Reader for a DICOM folder")

# --- A file is read as what it is. In a case folder holding the implant STL, a picture and the
# DICOM export in a sub-folder, opening the STL gives the STL (not the CT below it), the picture
# is refused with a message, and a slice opens the series it belongs to.
case = os.path.join(out, "case")
shutil.rmtree(case, ignore_errors=True)
shutil.copytree(os.path.join(out, "dicom"), os.path.join(case, "DICOM"))
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkFiltersSources import vtkSphereSource
from vtkmodules.vtkIOGeometry import vtkSTLWriter
from vtkmodules.vtkIOImage import vtkPNGWriter
stl = os.path.join(case, "implant.stl")
stl_source = vtkSphereSource()  # kept: a connection does not hold its algorithm
stl_writer = vtkSTLWriter()
stl_writer.SetFileName(stl)
stl_writer.SetInputConnection(stl_source.GetOutputPort())
stl_writer.Write()
picture = vtkImageData()
picture.SetDimensions(8, 8, 1)
picture.AllocateScalars(3, 1)  # unsigned char
png = os.path.join(case, "picture.png")
png_writer = vtkPNGWriter()
png_writer.SetFileName(png)
png_writer.SetInputData(picture)
png_writer.Write()
possible = factory.GetPossibleReaders(stl, session)
names = [possible.GetString(i) for i in range(possible.GetLength())]
opened = OpenDataFile(stl)
checks.check("CTVolumeReader" not in names and opened is not None and opened.GetXMLName() != "CTVolumeReader"
             and servermanager.Fetch(opened).GetNumberOfCells() > 0,
             "an implant STL next to a DICOM sub-folder opens as the STL (%s), not as the CT"
             % (opened.GetXMLName() if opened else None))
not_ct = CTVolumeReader(FileName=png)
with ibctest.StderrCapture() as captured:
    not_ct.UpdatePipeline()
checks.check("is not a CT volume" in captured.text and not_ct.GetDataInformation().GetNumberOfPoints() == 0,
             "a picture next to a DICOM sub-folder: refused with a message, nothing read")
from_slice = CTVolumeReader(FileName=os.path.join(case, "DICOM", "IM0003"))
checks.check(servermanager.Fetch(from_slice).GetDimensions() == tuple(written["dimensions"]),
             "a slice of the CT opens its series")
with ibctest.StderrCapture() as captured:
    from_scout = servermanager.Fetch(CTVolumeReader(FileName=os.path.join(case, "DICOM", "SCOUT1")))
checks.check(from_scout.GetDimensions() == (8, 8, 3) and "belongs to" in captured.text,
             "a slice of the scout opens the scout, with a warning naming the choice")

# --- Bad input: a clear error, no crash, the reader usable afterwards.
bad = CTVolumeReader(FileName=os.path.join(out, "missing.nrrd"))
with ibctest.StderrCapture() as captured:
    bad.UpdatePipeline()
checks.check("does not exist" in captured.text, "missing file: clear error")
junk = os.path.join(out, "junk.nii")
open(junk, "w").write("not an image")
bad.FileName = junk
with ibctest.StderrCapture() as captured:
    bad.UpdatePipeline()
checks.check("junk.nii" in captured.text, "file that is not an image: error names the file")
# Cut short (an interrupted copy): an error naming the file (and the slice), never voxels made up.
cut_folder = os.path.join(out, "cut")
shutil.rmtree(cut_folder, ignore_errors=True)
shutil.copytree(os.path.join(out, "dicom"), os.path.join(cut_folder, "dicom"))
for name in ["ct.mha", "ct.nii", "ct.nii.gz", "ct.mhd", "ct.raw"]:
    shutil.copy(os.path.join(out, name), cut_folder)
for name, share in [("ct.mha", 1 / 3), ("ct.nii", 1 / 3), ("ct.nii.gz", 1 / 3), ("ct.raw", 0.9),
                    (os.path.join("dicom", "IM0005"), 0.6)]:
    path = os.path.join(cut_folder, name)
    data = open(path, "rb").read()
    open(path, "wb").write(data[:int(len(data) * share)])
for opened, named in [("ct.mha", "ct.mha"), ("ct.nii", "ct.nii"), ("ct.nii.gz", "ct.nii.gz"),
                      ("ct.mhd", "ct.raw"), ("dicom", "IM0005")]:
    bad.FileName = os.path.join(cut_folder, opened)
    with ibctest.StderrCapture() as captured:
        bad.UpdatePipeline()
    checks.check("cut short" in captured.text and named in captured.text and
                 bad.GetDataInformation().GetNumberOfPoints() == 0,
                 "%s cut short: an error naming %s, nothing read" % (opened, named))
bad.FileName = os.path.join(out, "ct.mha")
checks.check(servermanager.Fetch(bad).GetNumberOfPoints() == np.prod(written["dimensions"]),
             "the same reader reads a good file afterwards")
checks.finish()
