"""Stage of the case-command test (run by RunAnalyzeCase.py under pvpython): writes the default
THA Phantom as a real case would come, a DICOM series (written by pydicom: CT Image Storage,
unsigned 16-bit with intercept -1024) and the stem as STL in LPS, in RAS and in metres, and the
phantom's truth per Gruen zone (area-weighted cortical share of the true tissue 1.0-1.5 mm out).

    pvpython WriteCaseFiles.py --output DIR"""
import argparse
import json
import os

import numpy as np
import pydicom
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkIOGeometry import vtkSTLWriter

import ibctest

parser = argparse.ArgumentParser()
parser.add_argument("--output", required=True)
out = parser.parse_args().output
ibctest.load_plugin(globals())
os.makedirs(os.path.join(out, "DICOM"), exist_ok=True)
phantom = THAPhantom(GenerateTissueLabels=0, ChordTolerance=0.005)
image = servermanager.Fetch(phantom, idx=0)
stem = servermanager.Fetch(phantom, idx=1)


def write_stl(name, scale):
    copy = vtkPolyData()
    copy.DeepCopy(stem)
    moved = vtkPoints()
    moved.SetData(numpy_to_vtk(vtk_to_numpy(stem.GetPoints().GetData()) * np.array(scale), deep=1))
    copy.SetPoints(moved)
    writer = vtkSTLWriter()
    writer.SetFileName(os.path.join(out, name))
    writer.SetInputData(copy)
    writer.Write()


write_stl("stem.stl", [1.0, 1.0, 1.0])
write_stl("stem_ras.stl", [-1.0, -1.0, 1.0])
write_stl("stem_metres.stl", [0.001, 0.001, 0.001])

dims, spacing, origin = image.GetDimensions(), image.GetSpacing(), image.GetOrigin()
hu = vtk_to_numpy(image.GetPointData().GetArray("HU")).reshape(dims[2], dims[1], dims[0])
series, study, frame = generate_uid(), generate_uid(), generate_uid()
for k in range(dims[2]):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientName, ds.PatientID = "CT", "Phantom", "0"
    ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.FrameOfReferenceUID = series, study, frame
    ds.SeriesDescription = "THA phantom"
    ds.InstanceNumber = dims[2] - k  # numbered from the top, as scanners often do
    ds.ImagePositionPatient = [origin[0], origin[1], origin[2] + k * spacing[2]]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [spacing[1], spacing[0]]
    ds.SliceThickness = spacing[2]
    ds.Rows, ds.Columns = dims[1], dims[0]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.PixelData = (hu[k].astype(np.int32) + 1024).clip(0, 65535).astype(np.uint16).tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(os.path.join(out, "DICOM", "IM%04d" % k), write_like_original=False)

# Truth per zone, area-weighted on the phantom's own stem.
vertex_area = ibctest.vertex_areas(stem)
zone = vtk_to_numpy(stem.GetPointData().GetArray("TrueGruenZone"))
tissue = vtk_to_numpy(stem.GetPointData().GetArray("TrueTissueClass"))
truth = {}
for z in range(15):
    chosen = (zone == z) if z else (zone > 0)
    truth[z] = float(np.sum(vertex_area[chosen] * (tissue[chosen] == 3)) / np.sum(vertex_area[chosen]))
json.dump({"cortical_fraction": truth, "slices": dims[2]}, open(os.path.join(out, "truth.json"), "w"))
print("case written: %d slices" % dims[2])
