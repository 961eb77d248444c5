"""CT Volume Reader on real DICOM files that other software wrote (pydicom's test files, shipped
by Debian's python3-pydicom; decoded independently here by pydicom): CT and MR slices in
explicit, implicit, big-endian and deflated syntaxes and compressed (RLE, JPEG 2000, JPEG-LS)
read with the values and positions pydicom gives; a file cut short, RT Dose, RT Plan, structure
sets, reports and screenshots are refused with a message (a single-frame RT Dose used to abort
the process inside GDCM); in an RT export folder the CT is read and the rest left out with a
note."""
import os
import shutil

import numpy as np
import pydicom
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403

import ibctest

ibctest.load_plugin(globals())
checks = ibctest.Checker("TestCTVolumeReaderRealFiles")
real = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
out = ibctest.fresh_output_dir("ct-volume-reader-real")


def alone(name):
    """The file copied into a folder of its own (a series is read from its folder)."""
    folder = os.path.join(out, name.replace(".", "_"))
    os.makedirs(folder, exist_ok=True)
    shutil.copy(os.path.join(real, name), folder)
    return os.path.join(folder, name)


def read(path):
    reader = CTVolumeReader(FileName=path)
    with ibctest.StderrCapture() as captured:
        image = servermanager.Fetch(reader)
    Delete(reader)
    return image, captured.text


def pydicom_values(name):
    """HU (or stored MR values) and the position of the first voxel, decoded by pydicom."""
    data = pydicom.dcmread(os.path.join(real, name))
    values = data.pixel_array.astype(float) * float(getattr(data, "RescaleSlope", 1.0)) + \
        float(getattr(data, "RescaleIntercept", 0.0))
    return values, np.array([float(x) for x in data.ImagePositionPatient])


# --- Images: the values and the position pydicom decodes.
for name, reference in [("CT_small.dcm", "CT_small.dcm"), ("MR_small.dcm", "MR_small.dcm"),
                        ("MR_small_implicit.dcm", "MR_small.dcm"), ("MR_small_bigendian.dcm", "MR_small.dcm"),
                        ("MR_small_expb.dcm", "MR_small.dcm"), ("MR_small_padded.dcm", "MR_small.dcm"),
                        ("MR_small_RLE.dcm", "MR_small.dcm"), ("MR_small_jp2klossless.dcm", "MR_small.dcm"),
                        ("MR_small_jpeg_ls_lossless.dcm", "MR_small.dcm")]:
    image, text = read(alone(name))
    expected, position = pydicom_values(reference)
    got = ibctest.array(image, "HU").astype(float) if image.GetNumberOfPoints() else np.array([])
    same = got.size == expected.size and np.array_equal(got.reshape(expected.shape), expected)
    checks.check(same and np.allclose(image.GetOrigin(), position, atol=1e-4),
                 "%s: %d values as pydicom decodes %s, first voxel at %s" % (name, got.size, reference, position))

# --- What is no CT, or is cut short: refused with a message, nothing made up, no crash.
for name, words in [("MR_truncated.dcm", "cut short"), ("rtdose_1frame.dcm", "RT Dose"),
                    ("rtdose.dcm", "RT Dose"), ("rtplan.dcm", "RT Plan"), ("test-SR.dcm", "structured report"),
                    ("SC_rgb_jpeg.dcm", "secondary capture"), ("waveform_ecg.dcm", "waveform")]:
    image, text = read(alone(name))
    checks.check(image.GetNumberOfPoints() == 0 and words in text,
                 "%s: refused, the message says %r" % (name, words))

# --- An RT export: the CT slice with a dose, a plan and a structure set next to it.
export = os.path.join(out, "rt_export")
os.makedirs(export, exist_ok=True)
for name in ["CT_small.dcm", "rtdose_1frame.dcm", "rtplan.dcm", "rtstruct.dcm"]:
    shutil.copy(os.path.join(real, name), export)
image, text = read(export)
checks.check(image.GetDimensions() == (128, 128, 1) and "left out" in text,
             "RT export folder: the CT is read, the other objects left out with a note")
checks.finish()
