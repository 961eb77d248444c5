"""Client of RunClientServer.py: connects to pvserver, loads the plugin on the server, runs
THA Phantom, the probe, CT Volume Reader, Implant Extract and Implant Register there and checks
numbers fetched back to the client against ground truth."""
import json
import os
import sys

import numpy as np
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkFiltersCore import vtkImplicitPolyDataDistance

import ibctest

port = int(sys.argv[1])
Connect("localhost", port)
ibctest.load_plugin(globals(), remote=True)
checks = ibctest.Checker("ClientServer")
ranks = servermanager.ActiveConnection.GetNumberOfDataPartitions()
checks.check(ranks == 2, "server runs on %d ranks" % ranks)

phantom = THAPhantom(Spacing=[1.0, 1.0, 1.5], NoiseSigma=0, DistributeSurface=1, TruthDistance=1.25,
                     TruthDepthTolerance=0.25)
phantom.UpdatePipeline()
info = phantom.GetDataInformation(0)
extent = info.GetExtent()
whole = (extent[1] + 1) * (extent[3] + 1) * (extent[5] + 1)
slab = (extent[1] + 1) * (extent[3] + 1)
# Neighbouring pieces share one layer of points, so the ranks hold a little more than the whole.
checks.check(whole <= info.GetNumberOfPoints() <= whole + (ranks - 1) * slab,
             "server holds the whole extent %s across ranks: %d points for %d voxels"
             % (extent, info.GetNumberOfPoints(), whole))
hu_range = phantom.PointData["HU"].GetRange()
checks.check(hu_range[0] == -1024 and hu_range[1] == 3071, "HU range %s" % (hu_range,))
surface = servermanager.Fetch(phantom, idx=1)
truth = ibctest.array(surface, "TrueTissueClass")
zones = ibctest.array(surface, "TrueGruenZone")
checks.check(surface.GetNumberOfCells() > 1000, "stem surface fetched: %d triangles" % surface.GetNumberOfCells())
checks.check(set(np.unique(zones)) == set(range(15)), "all Gruen zones in the fetched surface")
checks.check(set(np.unique(truth)) == {1, 2, 3}, "all truth classes in the fetched surface")

# The probe on the server: the default (metal-corrected) mode against the truth 1.0-1.5 mm out.
probe = NormalOffsetProbe(Input=OutputPort(phantom, 1), Source=OutputPort(phantom, 0))
sampled = servermanager.Fetch(probe)
hu = ibctest.array(sampled, "HU")
truth_class = ibctest.array(sampled, "TrueTissueClass")
usable = (ibctest.array(sampled, "TrueGruenZone") > 0) & (ibctest.array(sampled, "TrueTissueClassIsRobust") == 1)
classes = np.where(np.isnan(hu), 0, np.where(hu < 150, 1, np.where(hu < 700, 2, 3)))
accuracy = np.mean(classes[usable] == truth_class[usable])
checks.check(accuracy > 0.95, "probe on the server: tissue accuracy %.4f against the phantom's truth" % accuracy)
# CT Volume Reader on the server (2 ranks, slab pieces): the DICOM series' geometry and HU.
volumes = sys.argv[2]
written = json.load(open(os.path.join(volumes, "geometry.json")))
reader = CTVolumeReader(FileName=os.path.join(volumes, "dicom"))
reader.UpdatePipeline()
read_info = reader.GetDataInformation()
dims = written["dimensions"]
checks.check(read_info.GetExtent() == (0, dims[0] - 1, 0, dims[1] - 1, 0, dims[2] - 1),
             "reader on the server: extent %s" % (read_info.GetExtent(),))
hu_read = reader.PointData["HU"].GetRange()
checks.check(hu_read[0] == -1024.0 and hu_read[1] <= 3071.0, "reader on the server: HU range %s" % (hu_read,))

# Implant Extract on the server (the CT in 2 pieces): distance to the true stem.
extracted = servermanager.Fetch(ImplantExtract(Input=OutputPort(phantom, 0)))
true_distance = vtkImplicitPolyDataDistance()
true_distance.SetInput(surface)
distances = np.abs([true_distance.EvaluateFunction(p) for p in vtk_to_numpy(extracted.GetPoints().GetData())])
checks.check(extracted.GetNumberOfPoints() > 1000 and distances.mean() <= 0.25,
             "extract on the server: %d points, mean distance to the true stem %.3f mm"
             % (extracted.GetNumberOfPoints(), distances.mean()))

# Implant Register on the server: the split CAD stem, moved, back onto the CT.
moved = Transform(Input=OutputPort(phantom, 1))
moved.Transform.Translate = [8.0, -6.0, 5.0]
moved.Transform.Rotate = [6.0, -4.0, 8.0]
registered = servermanager.Fetch(ImplantRegister(Input=moved, Target=OutputPort(phantom, 0)))
true_points = vtk_to_numpy(surface.GetPoints().GetData())
true_ids = ibctest.array(surface, "PhantomPointId")
ids = ibctest.array(registered, "PhantomPointId")
order = np.argsort(true_ids)
where = order[np.searchsorted(true_ids[order], ids)]
error = np.sqrt(((vtk_to_numpy(registered.GetPoints().GetData()) - true_points[where]) ** 2).sum(axis=1).mean())
checks.check(error <= 0.3, "register on the server: vertex RMS error %.3f mm against the true stem" % error)
Disconnect()
checks.finish()
