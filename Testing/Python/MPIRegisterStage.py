"""Stage of RunMPIRegister.py: THA Phantom's CAD stem (split over the ranks under MPI), moved,
registered onto the phantom's CT (computed piece by piece), saved as .pvtp."""
import argparse
import os

from paraview.simple import *  # noqa: F401,F403

import ibctest

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("--name", required=True)
args = parser.parse_args()
ibctest.load_plugin(globals())
phantom = THAPhantom(Spacing=[0.8, 0.8, 1.2], BloomingWidth=2.0, DistributeSurface=1)
moved = Transform(Input=OutputPort(phantom, 1))
moved.Transform.Translate = [6.0, -4.0, 5.0]
moved.Transform.Rotate = [4.0, -3.0, 5.0]
registered = ImplantRegister(Input=moved, Target=OutputPort(phantom, 0))
SaveData(os.path.join(args.out, args.name + ".pvtp"), proxy=registered)
