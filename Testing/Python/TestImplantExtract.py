"""Implant Extract in pvpython, against the THA Phantom's true stem surface.

Goal (issue): with blooming 1.0 and 2.0 mm the extracted surface lies within 0.25 mm of the true
stem on average; the plain threshold surface is reported for comparison. Also: a CT that does not
clip (the metal plateau visible) gives a near exact surface; a cobalt-chromium-like metal behind
a clip is placed correctly once its Metal HU is given; the surface is closed and manifold and its
volume matches the true stem's; bad input gives clear errors. A sweep over blooming, streaks,
noise, beam hardening, voxel and slice size and metal value prints a table against the plain
threshold surface: the extracted surface within 0.15 mm of the true stem on average in each."""
import numpy as np
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkFiltersCore import vtkImplicitPolyDataDistance, vtkMassProperties

import ibctest

ibctest.load_plugin(globals())
checks = ibctest.Checker("TestImplantExtract")


field = ibctest.field_value


def distances_to(truth, surface):
    """Signed distance (mm, positive outside) of every vertex of `surface` to `truth`."""
    implicit = vtkImplicitPolyDataDistance()
    implicit.SetInput(truth)
    points = vtk_to_numpy(surface.GetPoints().GetData())
    return np.array([implicit.EvaluateFunction(p) for p in points])


def volume_of(surface):
    mass = vtkMassProperties()
    mass.SetInputData(surface)
    mass.Update()
    return mass.GetVolume()


def extract(phantom, **properties):
    extractor = ImplantExtract(Input=OutputPort(phantom, 0), **properties)
    data = servermanager.Fetch(extractor)
    Delete(extractor)
    return data


for blooming in [1.0, 2.0]:
    phantom = THAPhantom(BloomingWidth=blooming)
    truth = servermanager.Fetch(phantom, idx=1)
    with ibctest.StderrCapture() as captured:
        corrected = extract(phantom)
    plain = extract(phantom, PartialVolumeCorrection=0)
    d_corrected = distances_to(truth, corrected)
    d_plain = distances_to(truth, plain)
    label = "blooming %.1f mm" % blooming
    print("%s: plain threshold (%.0f HU) surface: mean |d| %.3f mm, mean signed %+.3f mm; corrected: "
          "mean |d| %.3f mm, mean signed %+.3f mm, 95th percentile %.3f mm; estimated inflation %.3f mm"
          % (label, field(corrected, "MetalThreshold"), np.abs(d_plain).mean(), d_plain.mean(),
             np.abs(d_corrected).mean(), d_corrected.mean(), np.percentile(np.abs(d_corrected), 95),
             field(corrected, "ThresholdSurfaceInflation")))
    checks.check(np.abs(d_corrected).mean() <= 0.25,
                 "%s: mean distance to the true stem %.3f mm <= 0.25 mm (plain threshold surface %.3f mm)"
                 % (label, np.abs(d_corrected).mean(), np.abs(d_plain).mean()))
    checks.check(np.abs(d_corrected).mean() < np.abs(d_plain).mean(),
                 "%s: the correction brings the surface closer than the threshold surface" % label)
    checks.check(ibctest.open_or_nonmanifold_edges(corrected) == 0, "%s: closed and manifold" % label)
    true_volume = volume_of(truth)
    checks.check(abs(field(corrected, "Volume") / true_volume - 1.0) < 0.03,
                 "%s: volume %.0f mm3 within 3 %% of the true %.0f mm3 (threshold surface %.0f mm3)"
                 % (label, field(corrected, "Volume"), true_volume, field(corrected, "ThresholdSurfaceVolume")))
    checks.check(field(corrected, "Clipped") == 1.0 and "clips at 3071" in captured.text,
                 "%s: the clip is detected and the assumption it forces is stated" % label)
    Delete(phantom)

# A scanner that does not clip: the plateau is visible and the half-way level can be read off.
phantom = THAPhantom(BloomingWidth=2.0, Clip=0)
truth = servermanager.Fetch(phantom, idx=1)
unclipped = extract(phantom)
d = distances_to(truth, unclipped)
checks.check(np.abs(d).mean() <= 0.1 and field(unclipped, "Clipped") == 0.0,
             "no clip, blooming 2 mm: mean distance %.3f mm <= 0.1 mm, plateau %.0f HU"
             % (np.abs(d).mean(), field(unclipped, "MetalPlateauHU")))
Delete(phantom)

# A denser metal (cobalt-chromium-like, 10000 HU) behind the 3071 clip, with its Metal HU given.
phantom = THAPhantom(BloomingWidth=2.0, MetalHU=10000)
truth = servermanager.Fetch(phantom, idx=1)
dense = extract(phantom, MetalHU=10000)
d = distances_to(truth, dense)
checks.check(np.abs(d).mean() <= 0.25,
             "10000 HU metal, clipped, Metal HU given: mean distance %.3f mm <= 0.25 mm" % np.abs(d).mean())

# Bad input: no metal in the CT, and a CT without the chosen array.
with ibctest.StderrCapture() as captured:
    none = extract(phantom, MetalMinimumHU=20000)
checks.check(none.GetNumberOfPoints() == 0 and "no voxel reaches Metal Minimum HU" in captured.text,
             "a CT without metal: empty output and a clear error")
renamed = PassArrays(Input=OutputPort(phantom, 0), PointDataArrays=["TissueLabel"])
with ibctest.StderrCapture() as captured:
    extractor = ImplantExtract(Input=renamed)
    extractor.Scalars = ["POINTS", "TissueLabel"]
    data = servermanager.Fetch(extractor)
checks.check(data.GetNumberOfPoints() == 0 and "no voxel reaches" in captured.text,
             "an array that is not HU: empty output and a clear error, no crash")
# Across the range of scans, against the plain threshold surface (the simple alternative) in
# the same run. The metal's value behind the clip is given where it is not the default's
# titanium; the rows after the table show what a wrong value costs (behind a clip the value is
# not in the data: the profiles' visible tail fits a wider blooming and another metal value
# almost equally well, and the probe's own metal fit on such a surface returns the value the
# surface was extracted with, so the fit cannot be shared to find it).
sweep = [("blooming 1 mm", dict(BloomingWidth=1.0), {}),
         ("blooming 3 mm", dict(BloomingWidth=3.0), {}),
         ("blooming 3 mm, streaks 300, noise 40", dict(BloomingWidth=3.0, StreakDepth=300, NoiseSigma=40), {}),
         ("blooming 2 mm, streaks 300, noise 60", dict(BloomingWidth=2.0, StreakDepth=300, NoiseSigma=60), {}),
         ("beam hardening 400", dict(BeamHardening=400), {}),
         ("3 mm slices", dict(Spacing=[0.7, 0.7, 3.0]), {}),
         ("1 mm voxels", dict(Spacing=[1.0, 1.0, 1.0]), {}),
         ("4500 HU metal, given", dict(MetalHU=4500), dict(MetalHU=4500)),
         ("12000 HU metal, given", dict(MetalHU=12000, BloomingWidth=2.0), dict(MetalHU=12000))]
print("| case | extracted: mean abs (mm) | signed | 95th percentile | threshold surface: mean abs |")
print("| --- | --- | --- | --- | --- |")
for label, scan, settings in sweep:
    phantom = THAPhantom(GenerateTissueLabels=0, **scan)
    truth = servermanager.Fetch(phantom, idx=1)
    d = distances_to(truth, extract(phantom, **settings))
    d_plain = distances_to(truth, extract(phantom, PartialVolumeCorrection=0, **settings))
    print("| %s | %.3f | %+.3f | %.3f | %.3f |" % (label, np.abs(d).mean(), d.mean(),
                                                   np.percentile(np.abs(d), 95), np.abs(d_plain).mean()))
    # A strong dark halo shrinks the threshold surface's inflation by itself: there the two tie
    # (0.01 mm allowed), everywhere else the correction must be closer.
    checks.check(np.abs(d).mean() <= 0.15 and np.abs(d).mean() < np.abs(d_plain).mean() + 0.01,
                 "%s: extracted surface %.3f mm from the true stem on average (<= 0.15 mm; threshold "
                 "surface %.3f mm)" % (label, np.abs(d).mean(), np.abs(d_plain).mean()))
    Delete(phantom)
for metal, assumed in [(4500, 0), (12000, 0), (12000, 9000)]:
    phantom = THAPhantom(GenerateTissueLabels=0, MetalHU=metal, BloomingWidth=2.0)
    truth = servermanager.Fetch(phantom, idx=1)
    d = distances_to(truth, extract(phantom, MetalHU=assumed))
    print("%d HU metal behind the clip, Metal HU %s: mean signed distance %+.3f mm (not checked: the "
          "value is not in the data)" % (metal, assumed or "default (6000)", d.mean()))
    Delete(phantom)

checks.finish()
