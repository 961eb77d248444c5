"""Client of RunClientServer.py: connects to pvserver, loads the plugin on the server, runs
THA Phantom there and checks numbers fetched back to the client."""
import sys

import numpy as np
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403

import ibctest

port = int(sys.argv[1])
Connect("localhost", port)
ibctest.load_plugin(globals(), remote=True)
checks = ibctest.Checker("ClientServer")
ranks = servermanager.ActiveConnection.GetNumberOfDataPartitions()
checks.check(ranks == 2, "server runs on %d ranks" % ranks)

phantom = THAPhantom(Spacing=[1.0, 1.0, 1.5], NoiseSigma=0, DistributeSurface=1)
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

# The probe on the server: automatic mode against the phantom's truth.
probe = NormalOffsetProbe(Input=OutputPort(phantom, 1), Source=OutputPort(phantom, 0))
sampled = servermanager.Fetch(probe)
hu = ibctest.array(sampled, "HU")
truth_class = ibctest.array(sampled, "TrueTissueClass")
usable = (ibctest.array(sampled, "TrueGruenZone") > 0) & (ibctest.array(sampled, "TrueTissueClassIsRobust") == 1)
classes = np.where(np.isnan(hu), 0, np.where(hu < 150, 1, np.where(hu < 700, 2, 3)))
accuracy = np.mean(classes[usable] == truth_class[usable])
checks.check(accuracy > 0.95, "probe on the server: tissue accuracy %.4f against the phantom's truth" % accuracy)
Disconnect()
checks.finish()
