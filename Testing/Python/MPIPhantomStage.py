"""Stage of RunMPIPhantom.py, run by pvpython (serial reference) or mpirun ... pvbatch.
Writes the phantom's CT and stem surface so the driver can compare them."""
import argparse
import os

from paraview.simple import *  # noqa: F401,F403
from paraview import servermanager

import ibctest

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("--mode", choices=["serial", "parallel"], required=True)
args = parser.parse_args()

ibctest.load_plugin(globals())
controller = servermanager.vtkProcessModule.GetProcessModule().GetGlobalController()
ranks = controller.GetNumberOfProcesses() if controller else 1
print("stage %s on %d rank(s)" % (args.mode, ranks), flush=True)

# Coarser than the default to keep the test quick; every effect on.
phantom = THAPhantom(Spacing=[1.0, 1.0, 1.5], DistributeSurface=1, NoiseSigma=25, BloomingWidth=2.0)
ct = OutputPort(phantom, 0)
stem = OutputPort(phantom, 1)
name = "serial" if args.mode == "serial" else "parallel"
SaveData(os.path.join(args.out, name + ".pvti"), proxy=ct)
SaveData(os.path.join(args.out, name + ".pvtp"), proxy=stem)
with open(os.path.join(args.out, name + ".ranks"), "w") as f:
    f.write(str(ranks))
