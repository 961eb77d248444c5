"""Stage of RunMPIRemesh.py: THA Phantom's stem (split over the ranks under MPI) -> Implant
Remesh, saved as .pvtp."""
import argparse
import os

from paraview.simple import *  # noqa: F401,F403

import ibctest

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("--name", required=True)
args = parser.parse_args()
ibctest.load_plugin(globals())
phantom = THAPhantom(Spacing=[3.0, 3.0, 3.0], DistributeSurface=1)
remeshed = ImplantRemesh(Input=OutputPort(phantom, 1), TargetEdgeLength=1.5)
SaveData(os.path.join(args.out, args.name + ".pvtp"), proxy=remeshed)
